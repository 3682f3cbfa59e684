/**
 * threadPool=N through the real built-in server: responses, bodies both ways, environ, pool size, blocking
 * (synchronous) body reads in a pool thread, and the whole conformance table run through pool threads.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { generateBody, digestOf } from './support/bodies.js';
import { httpSend, runConformance } from './conformance/runner.js';
import { Gate, startPool, waitUntil, type PoolServer } from './fixtures/pool/client.js';

describe('threadPool: serving through pool threads', function () {
  this.timeout(60_000);
  let pool: PoolServer;
  before(async () => {
    pool = await startPool({ size: 3 });
  });
  after(async () => {
    await pool?.close();
    Gate.cleanup();
  });

  it('answers from a pool thread with tsgi.multithread = true', async () => {
    const res = await pool.json('/');
    expect(res.status).to.equal(200);
    expect(res.body.multithread).to.equal(true);
    expect(res.body.threadId).to.be.a('number').and.not.equal(0); // 0 is the main thread
  });

  it('passes a 5 MB POST body through (length and sha256 as the app read it)', async () => {
    const spec = { size: 5 * 1024 * 1024 + 17, seed: 7 };
    const res = await pool.send({ method: 'POST', path: '/echo', body: generateBody(spec), headers: [['Content-Length', String(spec.size)]] });
    expect(res.status).to.equal(200);
    const echo = JSON.parse(res.body.toString('utf8').split('\n')[0]);
    expect(echo.body).to.deep.equal(digestOf(spec));
  });

  it('streams an 8 MB download from a pool thread', async () => {
    const res = await pool.send({ path: '/echo?stream=8192' });
    expect(res.status).to.equal(200);
    expect(res.headers['transfer-encoding']).to.equal('chunked');
    const rest = res.body.subarray(res.body.indexOf(10) + 1);
    expect(rest.length).to.equal(8192 * 1024);
    expect(createHash('sha256').update(rest).digest('hex')).to.equal(createHash('sha256').update(Buffer.alloc(8192 * 1024, 0x61)).digest('hex'));
  });

  it('lets a synchronous app block on tsgi.input.readSync() in a pool thread (chunked upload)', async () => {
    const spec = { size: 3 * 1024 * 1024 + 5, seed: 11 };
    const res = await pool.send({ method: 'POST', path: '/sync-sha', body: generateBody(spec), chunked: true });
    expect(res.status).to.equal(200);
    const body = JSON.parse(res.body.toString('utf8'));
    expect({ length: body.length, sha256: body.sha256 }).to.deep.equal(digestOf(spec));
  });

  it('keeps the event loop free while a thread blocks reading a slow upload', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    async function* slowBody(): AsyncGenerator<Buffer> {
      yield Buffer.from('first part;');
      await held;
      yield Buffer.from('second part');
    }
    const upload = pool.send({ method: 'POST', path: '/sync-sha', body: slowBody(), chunked: true });
    await waitUntil('the upload is being read by a thread', () => pool.dispatcher.stats().workers.some((w) => w.current?.requestLine.startsWith('POST /sync-sha') === true));
    // The thread is parked in Atomics.wait; other requests are still served by the other threads.
    const other = await pool.json('/');
    expect(other.status).to.equal(200);
    release();
    const res = await upload;
    expect(JSON.parse(res.body.toString('utf8')).length).to.equal('first part;second part'.length);
  });

  it('uses N distinct threads for N concurrent requests, and queues the N+1th', async () => {
    const gate = new Gate('size');
    const held = [1, 2, 3].map(() => pool.json(`/gate?${gate.query}`));
    await waitUntil('3 threads are busy', () => pool.dispatcher.stats().busy === 3);
    const extra = pool.json(`/gate?${gate.query}`);
    await waitUntil('one request is queued', () => pool.dispatcher.stats().queueLength === 1);
    const stats = pool.dispatcher.stats();
    expect(stats.workers.filter((w) => w.current !== null).map((w) => w.current!.requestLine)).to.have.length(3);
    expect(stats.threads).to.equal(3);
    gate.open();
    const results = await Promise.all([...held, extra]);
    expect(results.map((r) => r.status)).to.deep.equal([200, 200, 200, 200]);
    expect(new Set(results.slice(0, 3).map((r) => r.body.threadId)).size).to.equal(3);
  });

  it('reports what each thread serves in stats()', async () => {
    const gate = new Gate('stats');
    const p = pool.json(`/gate?${gate.query}&who=stats`);
    await waitUntil('the request is running', () => pool.dispatcher.stats().busy === 1);
    const w = pool.dispatcher.stats().workers.find((x) => x.current !== null)!;
    expect(w.current!.requestLine).to.match(/^GET \/gate\?file=.*&who=stats HTTP\/1\.1$/);
    expect(w.state).to.equal('busy');
    gate.open();
    expect((await p).status).to.equal(200);
  });
});

describe('threadPool: the conformance table through pool threads', function () {
  this.timeout(60_000);
  let pool: PoolServer;
  before(async () => {
    pool = await startPool({ size: 2, app: fileURLToPath(new URL('./conformance/apps.js', import.meta.url)) + ':conformanceApp' });
  });
  after(() => pool?.close());
  runConformance('conformance', {
    name: 'threadPool=2',
    mount: '',
    send: httpSend(() => ({ port: pool.server.port })),
    capabilities: { chunkedUpload: true },
  });
});
