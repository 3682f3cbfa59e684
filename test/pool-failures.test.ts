/**
 * threadPool under failure: crashed threads, stuck requests (timeout), recycling after maxRequests,
 * overload (pool and queue full) and queue-wait admission control. Each test checks what a client sees and
 * that the pool is back to N threads afterwards (no leaked or missing thread).
 */
import { expect } from 'chai';
import { Gate, startPool, waitUntil, type PoolServer } from './fixtures/pool/client.js';

describe('threadPool: failures', function () {
  this.timeout(60_000);
  let pool: PoolServer | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });
  after(() => Gate.cleanup());

  async function threadIds(p: PoolServer): Promise<number[]> {
    await waitUntil('every thread is idle', () => p.dispatcher.stats().idle === p.dispatcher.size);
    return p.dispatcher.stats().workers.map((w) => w.threadId).sort();
  }

  it('replaces a thread that calls process.exit() mid-request: 500, then the next request is 2xx', async () => {
    pool = await startPool({ size: 2 });
    const before = await threadIds(pool);
    const res = await pool.send({ path: '/exit' });
    expect(res.status).to.equal(500);
    await waitUntil('a replacement thread is ready', () => pool!.dispatcher.stats().idle === 2);
    const after = await threadIds(pool);
    expect(after.filter((id) => !before.includes(id))).to.have.length(1);
    for (let i = 0; i < 4; i++) expect((await pool.json('/')).status).to.equal(200);
    const stats = pool.dispatcher.stats();
    expect(stats.counters.crashes).to.equal(1);
    expect(stats.threads).to.equal(2);
    expect(pool.memory.text).to.match(/ended unexpectedly \(exit code 3\) while serving GET \/exit/);
  });

  it('replaces a thread killed by an uncaught throw in a timer: 500, then the next request is 2xx', async () => {
    pool = await startPool({ size: 1 });
    const [before] = await threadIds(pool);
    const res = await pool.send({ path: '/throw-in-timer' });
    expect(res.status).to.equal(500);
    const next = await pool.json('/');
    expect(next.status).to.equal(200);
    expect(next.body.threadId).to.not.equal(before);
    expect(pool.memory.text).to.include('thrown in a timer on purpose');
    expect(pool.dispatcher.stats().threads).to.equal(1);
  });

  it('answers 504 for a request past requestTimeoutMs and replaces the stuck thread', async () => {
    pool = await startPool({ size: 1, requestTimeoutMs: 300 });
    const [stuck] = await threadIds(pool);
    const res = await pool.send({ path: '/hang' });
    expect(res.status).to.equal(504);
    const next = await pool.json('/');
    expect(next.status).to.equal(200);
    expect(next.body.threadId).to.not.equal(stuck);
    const stats = pool.dispatcher.stats();
    expect(stats.counters.timeouts).to.equal(1);
    expect(stats.counters.crashes).to.equal(0);
    await waitUntil('the stuck thread has ended', () => pool!.dispatcher.stats().threads === 1);
  });

  it('cuts the connection when the timeout hits after the headers went out', async () => {
    pool = await startPool({ size: 1, requestTimeoutMs: 300, window: 64 * 1024 });
    // /echo?stream=... with a client that never reads: the thread stalls on credit, then times out.
    const net = await import('node:net');
    const sock = net.connect(pool.server.port, '127.0.0.1');
    sock.write('GET /echo?stream=200000 HTTP/1.1\r\nHost: x\r\n\r\n');
    sock.pause();
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => {});
    await waitUntil('the request timed out', () => pool!.dispatcher.stats().counters.timeouts === 1);
    sock.resume(); // read what was sent; the server must end the connection instead of completing the body
    await closed;
    expect((await pool.json('/')).status).to.equal(200);
  });

  it('recycles threads after maxRequests (+ jitter) with zero failed requests', async () => {
    pool = await startPool({ size: 2, maxRequests: 5, maxRequestsJitter: 2 });
    const seen = new Set<number>();
    const statuses: number[] = [];
    // 60 requests, 3 at a time: more than the two threads can take before they must be replaced.
    for (let round = 0; round < 20; round++) {
      const batch = await Promise.all([0, 1, 2].map(() => pool!.json('/')));
      for (const r of batch) {
        statuses.push(r.status);
        seen.add(r.body.threadId as number);
      }
    }
    expect(statuses.filter((s) => s !== 200)).to.deep.equal([]);
    expect(statuses).to.have.length(60);
    const stats = pool.dispatcher.stats();
    // A thread serves at most 5 + 2 requests: 60 requests need >= 9 threads, all but the last 2 recycled.
    expect(seen.size).to.be.at.least(9);
    expect(stats.counters.recycled).to.be.at.least(7);
    await waitUntil('the pool is back to 2 threads', () => pool!.dispatcher.stats().threads === 2);
  });

  it('answers 503 with Retry-After at once when the pool and the queue are full, and leaks no thread', async () => {
    pool = await startPool({ size: 1, maxQueue: 1, retryAfterSeconds: 2 });
    const gate = new Gate('overload');
    const running = pool.json(`/gate?${gate.query}`);
    await waitUntil('the thread is busy', () => pool!.dispatcher.stats().busy === 1);
    const queued = pool.json(`/gate?${gate.query}`);
    await waitUntil('one request waits', () => pool!.dispatcher.stats().queueLength === 1);
    // The gate is still closed: if the server hung instead of refusing, this would never resolve.
    const refused = await Promise.all([pool.send({ path: '/' }), pool.send({ path: '/', method: 'HEAD' })]);
    for (const r of refused) {
      expect(r.status).to.equal(503);
      expect(r.headers['retry-after']).to.equal('2');
    }
    expect(refused[1].body.length).to.equal(0);
    gate.open();
    expect((await running).status).to.equal(200);
    expect((await queued).status).to.equal(200);
    const stats = pool.dispatcher.stats();
    expect(stats.counters.shedQueueFull).to.equal(2);
    expect(stats.threads).to.equal(1);
    expect(stats.workers).to.have.length(1);
  });

  it('sheds new requests with 503 while the oldest queued one has waited past maxQueueWaitMs', async () => {
    pool = await startPool({ size: 1, maxQueue: 10, maxQueueWaitMs: 200 });
    const gate = new Gate('wait');
    const running = pool.json(`/gate?${gate.query}`);
    await waitUntil('the thread is busy', () => pool!.dispatcher.stats().busy === 1);
    const queued = pool.json(`/gate?${gate.query}`);
    await waitUntil('the queued request has waited past the bound', () => pool!.dispatcher.stats().oldestQueuedMs > 250);
    const shed = await pool.send({ path: '/' });
    expect(shed.status).to.equal(503);
    expect(shed.headers['retry-after']).to.equal('1');
    gate.open();
    // Admission control refuses newcomers; the request already queued is still served.
    expect((await running).status).to.equal(200);
    expect((await queued).status).to.equal(200);
    expect((await pool.json('/')).status).to.equal(200);
    expect(pool.dispatcher.stats().counters.shedQueueWait).to.equal(1);
  });

  it('refuses to start when the app cannot be loaded (TSGI_ERR_APP_LOAD) and leaves no thread behind', async () => {
    const { ThreadPoolDispatcher } = await import('../gateway/threads/thread-pool.js');
    const { ErrorLog, MemoryLog } = await import('../gateway/core/log.js');
    const d = new ThreadPoolDispatcher({ app: '/nonexistent/app.js', size: 2, log: new ErrorLog(new MemoryLog()) });
    let err: unknown;
    try {
      await d.start();
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string })?.code).to.equal('TSGI_ERR_APP_LOAD');
    expect(d.stats().threads).to.equal(0);
  });
});
