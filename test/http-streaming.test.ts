/**
 * Streaming through the built-in server without buffering: a 200 MB upload hashed by the app as it arrives,
 * and a 200 MB download from a generator body. The server runs in a child process so its RSS can be
 * sampled from /proc; the peak must stay within 100 MB of the idle server's.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startChild, rssOf, RssSampler, type Child } from './support/child.js';
import { sendRequest } from './support/http-client.js';

const CHILD = fileURLToPath(new URL('./support/streaming-child.js', import.meta.url));
const MB = 1024 * 1024;
const TOTAL = 200 * MB;
const MAX_GROWTH = 100 * MB;

describe('built-in server streaming (200 MB, server in a child process)', function () {
  this.timeout(180_000);
  let child: Child<{ port: number }>;
  let baseline = 0;

  before(async () => {
    child = await startChild<{ port: number }>(CHILD);
    // Warm up both paths so lazily loaded code is not counted as growth.
    await sendRequest({ port: child.ready.port }, { method: 'POST', path: '/upload', body: Buffer.alloc(MB, 1) });
    await sendRequest({ port: child.ready.port }, { method: 'GET', path: '/download?chunks=16' });
    baseline = rssOf(child.proc.pid!);
  });
  after(() => child?.stop());

  it('a 200 MB upload reaches the app intact, server RSS growth < 100 MB', async () => {
    const block = createHash('sha512').update('seed').digest();
    const mbBlock = Buffer.alloc(MB);
    for (let i = 0; i < MB; i += block.length) block.copy(mbBlock, i);
    const expected = createHash('sha256');
    const body = (function* () {
      for (let i = 0; i < TOTAL / MB; i++) {
        expected.update(mbBlock);
        yield mbBlock;
      }
    })();
    const sampler = new RssSampler(child.proc.pid!);
    let res;
    try {
      res = await sendRequest({ port: child.ready.port }, { method: 'POST', path: '/upload', headers: [['Content-Length', String(TOTAL)]], body }, 150_000);
    } finally {
      sampler.stop();
    }
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body.toString())).to.deep.equal({ length: TOTAL, sha256: expected.digest('hex') });
    const growth = sampler.peak - baseline;
    expect(growth, `peak RSS growth ${(growth / MB).toFixed(1)} MB`).to.be.lessThan(MAX_GROWTH);
  });

  it('a 200 MB download from a generator body arrives whole, server RSS growth < 100 MB', async () => {
    const chunkLen = 64 * 1024;
    const chunks = TOTAL / chunkLen;
    const sampler = new RssSampler(child.proc.pid!);
    const got = createHash('sha256');
    let length = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: child.ready.port, path: `/download?chunks=${chunks}`, agent: false }, (res) => {
          expect(res.headers['content-length']).to.equal(String(TOTAL));
          res.on('data', (c: Buffer) => {
            got.update(c);
            length += c.length;
          });
          res.on('end', () => (res.complete ? resolve() : reject(new Error('download ended incomplete'))));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.setTimeout(150_000, () => req.destroy(new Error('download did not finish in 150 s')));
      });
    } finally {
      sampler.stop();
    }
    const pattern = Buffer.from(Array.from({ length: chunkLen }, (_, i) => i & 0xff));
    const want = createHash('sha256');
    for (let i = 0; i < chunks; i++) want.update(pattern);
    expect(length).to.equal(TOTAL);
    expect(got.digest('hex')).to.equal(want.digest('hex'));
    const growth = sampler.peak - baseline;
    expect(growth, `peak RSS growth ${(growth / MB).toFixed(1)} MB`).to.be.lessThan(MAX_GROWTH);
  });
});
