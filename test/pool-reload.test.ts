/**
 * reload() under load (threads replaced one at a time, new code picked up, zero failed requests) and
 * threading=1 (a new thread per request).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startPool, waitUntil, type PoolServer } from './fixtures/pool/client.js';

/** An app module in a temp dir whose answer is `version`: rewriting it is "deploying new code". */
function writeVersionedApp(file: string, version: string): void {
  writeFileSync(
    file,
    `import { threadId } from 'node:worker_threads';
export default (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return ['${version} ' + threadId];
};
`,
  );
}

describe('threadPool: reload', function () {
  this.timeout(120_000);
  let dir: string;
  let pool: PoolServer | undefined;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-reload-'));
  });
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces every thread with new code over 3 reloads under load, with zero failed requests', async () => {
    const file = path.join(dir, 'app.mjs');
    writeVersionedApp(file, 'v0');
    pool = await startPool({ size: 3, app: file });
    const p = pool;
    const failures: string[] = [];
    const versions = new Set<string>();
    let sent = 0;
    let stop = false;
    // Bounded load: 4 clients, at most 3000 requests in all, until the reloads are done.
    const client = async (): Promise<void> => {
      while (!stop && sent < 3000) {
        sent++;
        try {
          const res = await p.send({ path: '/' });
          if (res.status !== 200) failures.push(`status ${res.status}`);
          else versions.add(res.body.toString().split(' ')[0]);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const load = Promise.all([client(), client(), client(), client()]);
    for (const v of ['v1', 'v2', 'v3']) {
      await waitUntil('some load went through', () => sent > 10);
      const before = p.dispatcher.stats().workers.map((w) => w.threadId);
      writeVersionedApp(file, v);
      await p.dispatcher.reload();
      const after = p.dispatcher.stats().workers.filter((w) => w.state === 'idle' || w.state === 'busy').map((w) => w.threadId);
      expect(after.filter((id) => before.includes(id)), `after reload to ${v}, no old thread takes requests`).to.deep.equal([]);
      const answer = (await p.send({ path: '/' })).body.toString();
      expect(answer.startsWith(v + ' '), `after reload to ${v} the answer is ${answer}`).to.equal(true);
    }
    stop = true;
    await load;
    expect(failures).to.deep.equal([]);
    expect([...versions]).to.include.members(['v0', 'v3']);
    const stats = p.dispatcher.stats();
    expect(stats.counters.reloads).to.equal(3);
    await waitUntil('retired threads have ended', () => p.dispatcher.stats().threads === 3);
  });

  it('keeps serving the old code when the new code does not load', async () => {
    const file = path.join(dir, 'broken.mjs');
    writeVersionedApp(file, 'good');
    pool = await startPool({ size: 2, app: file });
    writeFileSync(file, 'export default = syntax error;\n');
    let err: unknown;
    try {
      await pool.dispatcher.reload();
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string })?.code).to.equal('TSGI_ERR_APP_LOAD');
    const res = await pool.send({ path: '/' });
    expect(res.status).to.equal(200);
    expect(res.body.toString()).to.match(/^good /);
    expect(pool.dispatcher.stats().threads).to.equal(2);
  });
});

describe('threading=1: a thread per request', function () {
  this.timeout(60_000);
  let pool: PoolServer;
  before(async () => {
    pool = await startPool({ mode: 'perRequest', size: 8 });
  });
  after(() => pool?.close());

  it('serves each request on a new thread that ends after it', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await pool.json('/');
      expect(res.status).to.equal(200);
      expect(res.body.multithread).to.equal(true);
      ids.push(res.body.threadId as number);
    }
    expect(new Set(ids).size).to.equal(5);
    // At most the one spare thread, booted ahead for the next request, stays alive.
    await waitUntil('used threads have ended', () => pool.dispatcher.stats().threads <= 1);
    const stats = pool.dispatcher.stats();
    expect(stats.workers.every((w) => w.requests === 0)).to.equal(true);
  });

  it('serves concurrent requests on concurrent threads, each a fresh module instance', async () => {
    const res = await Promise.all([1, 2, 3, 4, 5, 6].map(() => pool.json('/')));
    expect(res.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200, 200]);
    expect(new Set(res.map((r) => r.body.threadId)).size).to.equal(6);
    expect(new Set(res.map((r) => r.body.loadId)).size).to.equal(6);
  });

  it('reads a POST body synchronously in its thread', async () => {
    const body = Buffer.alloc(200_000, 0x62);
    const res = await pool.send({ method: 'POST', path: '/sync-sha', body });
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body.toString()).length).to.equal(200_000);
  });
});
