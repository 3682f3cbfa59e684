/**
 * Request batches in the thread pool (gateway/threads/batch-claim.ts): a thread that frees while requests wait
 * takes its share of the queue in one message; what it has not started can be taken back for an idle
 * thread, and goes back to the queue when its thread is ended (timeout, crash). Held requests (gates) make
 * the queue's shape known before a thread frees, so which batch forms is decided, not timed.
 */
import { expect } from 'chai';
import { generateBody, digestOf } from './support/bodies.js';
import type { RawResponse } from './support/http-client.js';
import { Gate, startPool, waitUntil, type PoolServer } from './fixtures/pool/client.js';

/** The QUERY_STRING the app saw, from /echo's JSON answer. */
function echoedQuery(res: RawResponse): string {
  return JSON.parse(res.body.toString('utf8').split('\n')[0]).environ.QUERY_STRING;
}

/** Track a request: `settled` turns true when its response is in. */
function track(p: Promise<RawResponse>): { p: Promise<RawResponse>; settled: boolean } {
  const t = { p, settled: false };
  p.then(
    () => (t.settled = true),
    () => (t.settled = true),
  );
  return t;
}

describe('threadPool: request batches', function () {
  this.timeout(60_000);
  let pool: PoolServer | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });
  after(() => Gate.cleanup());

  /** Hold every thread of `pool` with a gated request; returns the gates and the held responses. */
  async function holdAll(p: PoolServer, n: number): Promise<{ gates: Gate[]; held: Promise<RawResponse>[] }> {
    const gates = Array.from({ length: n }, (_, i) => new Gate(`hold${i}`));
    const held = gates.map((g) => p.send({ path: `/gate?${g.query}` }));
    await waitUntil(`${n} threads busy`, () => p.dispatcher.stats().busy === n);
    return { gates, held };
  }

  /** Send `/echo?i=K` for each K, one after another into the queue (so the queue order is known). */
  async function queueEchoes(p: PoolServer, keys: string[], before = 0): Promise<Promise<RawResponse>[]> {
    const out: Promise<RawResponse>[] = [];
    for (const k of keys) {
      out.push(p.send({ path: `/echo?i=${k}` }));
      await waitUntil(`${k} queued`, () => p.dispatcher.stats().queueLength === before + out.length);
    }
    return out;
  }

  it('gives a freed thread its share of the queue in one message; every response reaches its own client', async () => {
    pool = await startPool({ size: 2 });
    const { gates, held } = await holdAll(pool, 2);
    const keys = Array.from({ length: 12 }, (_, i) => `r${i}`);
    const echoes = await queueEchoes(pool, keys);
    gates[0].open();
    gates[1].open();
    for (const res of await Promise.all(held)) expect(res.status).to.equal(200);
    const answers = await Promise.all(echoes);
    expect(answers.map((r) => r.status)).to.deep.equal(keys.map(() => 200));
    expect(answers.map(echoedQuery)).to.deep.equal(keys.map((k) => `i=${k}`));
    const stats = pool.dispatcher.stats();
    expect(stats.counters.batches, 'batches handed out').to.be.greaterThan(0);
    expect(stats.counters.dispatched).to.equal(14);
    expect(stats.counters.completed).to.equal(14);
    expect(stats.queueLength).to.equal(0);
    expect(stats.busy).to.equal(0);
  });

  it('with maxBatch 1 (threadBatch = 1) hands out one request per message', async () => {
    pool = await startPool({ size: 2, maxBatch: 1 });
    const { gates, held } = await holdAll(pool, 2);
    const keys = ['s1', 's2', 's3', 's4', 's5', 's6'];
    const echoes = await queueEchoes(pool, keys);
    for (const g of gates) g.open();
    await Promise.all(held);
    expect((await Promise.all(echoes)).map(echoedQuery)).to.deep.equal(keys.map((k) => `i=${k}`));
    expect(pool.dispatcher.stats().counters.batches).to.equal(0);
  });

  it('takes back what a thread has not started when another thread is idle (a slow request heads the batch)', async () => {
    pool = await startPool({ size: 2 });
    const { gates, held } = await holdAll(pool, 2);
    const slowGate = new Gate('slow');
    const slow = track(pool.send({ path: `/gate?${slowGate.query}` }));
    await waitUntil('slow queued', () => pool!.dispatcher.stats().queueLength === 1);
    const fast = (await queueEchoes(pool, ['f1', 'f2', 'f3', 'f4', 'f5'], 1)).map(track);
    // Thread B frees with 6 queued: its share is [slow, f1, f2]. Thread A then serves f3..f5, goes idle,
    // and must take f1 and f2 back from B, which is held by slow.
    gates[1].open();
    await waitUntil('slow started', () => pool!.dispatcher.stats().workers.some((w) => w.current?.requestLine.includes('/gate?') && w.current.requestLine.includes('slow')));
    gates[0].open();
    await waitUntil('every fast request answered while slow is held', () => fast.every((f) => f.settled), 3000);
    expect(slow.settled, 'slow still held').to.equal(false);
    const answers = await Promise.all(fast.map((f) => f.p));
    expect(answers.map(echoedQuery)).to.deep.equal(['i=f1', 'i=f2', 'i=f3', 'i=f4', 'i=f5']);
    expect(pool.dispatcher.stats().counters.takenBack).to.be.at.least(2);
    slowGate.open();
    expect((await slow.p).status).to.equal(200);
    for (const res of await Promise.all(held)) expect(res.status).to.equal(200);
  });

  it('takes a batch stalled behind a slow request back before newer queued requests, even while the queue is full', async () => {
    pool = await startPool({ size: 2 });
    const { gates, held } = await holdAll(pool, 2);
    const slowGate = new Gate('slow');
    const later = [new Gate('g1'), new Gate('g2')];
    const slow = track(pool.send({ path: `/gate?${slowGate.query}` }));
    await waitUntil('slow queued', () => pool!.dispatcher.stats().queueLength === 1);
    const [f1] = (await queueEchoes(pool, ['f1'], 1)).map(track);
    const newer = later.map((g) => track(pool!.send({ path: `/gate?${g.query}` })));
    await waitUntil('4 queued', () => pool!.dispatcher.stats().queueLength === 4);
    // Thread B frees with 4 queued and takes its share, [slow, f1]; g1 and g2 stay in the queue.
    gates[1].open();
    await waitUntil('slow started', () => pool!.dispatcher.stats().workers.some((w) => w.current?.requestLine.includes('slow') === true));
    await new Promise((r) => setTimeout(r, 50)); // past BATCH_STALL_MS (2 ms): slow now counts as stalled
    // Thread A frees: f1, older than g1 and g2, must come back to it first, though the queue is not empty.
    gates[0].open();
    await waitUntil('f1 answered while slow, g1 and g2 are held', () => f1.settled, 3000);
    expect(echoedQuery(await f1.p)).to.equal('i=f1');
    expect([slow.settled, newer[0].settled, newer[1].settled]).to.deep.equal([false, false, false]);
    expect(pool.dispatcher.stats().counters.takenBack).to.equal(1);
    slowGate.open();
    for (const g of later) g.open();
    for (const t of [slow, ...newer]) expect((await t.p).status).to.equal(200);
    for (const res of await Promise.all(held)) expect(res.status).to.equal(200);
  });

  it('answers 504 for a batch head past requestTimeoutMs and serves the rest of its batch on the new thread', async () => {
    pool = await startPool({ size: 1, requestTimeoutMs: 1500 });
    const { gates, held } = await holdAll(pool, 1);
    const hang = pool.send({ path: '/hang' });
    await waitUntil('hang queued', () => pool!.dispatcher.stats().queueLength === 1);
    const rest = await queueEchoes(pool, ['a', 'b', 'c'], 1);
    gates[0].open(); // the thread frees and takes [hang, a, b, c]
    expect((await held[0]).status).to.equal(200);
    expect((await hang).status).to.equal(504);
    const answers = await Promise.all(rest);
    expect(answers.map((r) => r.status)).to.deep.equal([200, 200, 200]);
    expect(answers.map(echoedQuery)).to.deep.equal(['i=a', 'i=b', 'i=c']);
    const stats = pool.dispatcher.stats();
    expect(stats.counters.timeouts).to.equal(1);
    expect(stats.counters.takenBack).to.equal(3);
    expect(stats.threads).to.equal(1);
  });

  it('answers 500 for a batch head whose thread exits and serves the rest of its batch on the new thread', async () => {
    pool = await startPool({ size: 1 });
    const { gates, held } = await holdAll(pool, 1);
    const exit = pool.send({ path: '/exit' });
    await waitUntil('exit queued', () => pool!.dispatcher.stats().queueLength === 1);
    const rest = await queueEchoes(pool, ['x', 'y'], 1);
    gates[0].open();
    expect((await held[0]).status).to.equal(200);
    expect((await exit).status).to.equal(500);
    const answers = await Promise.all(rest);
    expect(answers.map((r) => r.status)).to.deep.equal([200, 200]);
    expect(answers.map(echoedQuery)).to.deep.equal(['i=x', 'i=y']);
    expect(pool.dispatcher.stats().counters.crashes).to.equal(1);
  });

  it('sends a request with a body alone, never queued behind another in a batch', async () => {
    pool = await startPool({ size: 1 });
    const { gates, held } = await holdAll(pool, 1);
    const spec = { size: 300 * 1024 + 3, seed: 5 };
    const first = await queueEchoes(pool, ['before']);
    const post = pool.send({ method: 'POST', path: '/echo?i=post', body: generateBody(spec), headers: [['Content-Length', String(spec.size)]] });
    await waitUntil('post queued', () => pool!.dispatcher.stats().queueLength === 2);
    const after = await queueEchoes(pool, ['after'], 2);
    gates[0].open();
    await Promise.all(held);
    const [b, p, a] = await Promise.all([first[0], post, after[0]]);
    expect([b.status, p.status, a.status]).to.deep.equal([200, 200, 200]);
    expect(JSON.parse(p.body.toString('utf8').split('\n')[0]).body).to.deep.equal(digestOf(spec));
    expect([echoedQuery(b), echoedQuery(p), echoedQuery(a)]).to.deep.equal(['i=before', 'i=post', 'i=after']);
    expect(pool.dispatcher.stats().counters.batches, 'no batch could form around the body').to.equal(0);
  });

  it('never hands a thread more than its maxRequests in one batch', async () => {
    pool = await startPool({ size: 1, maxRequests: 3 });
    const { gates, held } = await holdAll(pool, 1); // the first thread's request 1 of 3
    const keys = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'];
    const echoes = await queueEchoes(pool, keys);
    gates[0].open();
    await Promise.all(held);
    const answers = await Promise.all(echoes);
    expect(answers.map(echoedQuery)).to.deep.equal(keys.map((k) => `i=${k}`));
    const stats = pool.dispatcher.stats();
    // 8 requests at 3 per thread: the first thread serves 3, the next 3, the third 2; two were recycled.
    expect(stats.counters.recycled).to.equal(2);
    expect(stats.counters.threadsStarted).to.equal(3);
    expect(stats.counters.batches).to.be.greaterThan(0);
  });
});
