/**
 * The shared typed-array cache: single-flight across threads (50 concurrent misses, one compute), values
 * shared without copies (a write in one thread is seen by all), and the same API on the main thread.
 */
import { expect } from 'chai';
import { sharedArray, sharedCache, sharedCacheStats } from '../gateway/threads/shared-cache.js';
import { Gate, startPool, waitUntil, type PoolServer } from './fixtures/pool/client.js';

describe('shared cache across pool threads', function () {
  this.timeout(60_000);
  let pool: PoolServer;
  before(async () => {
    pool = await startPool({ size: 4 });
  });
  after(async () => {
    await pool?.close();
    Gate.cleanup();
  });

  it('computes once for 50 concurrent misses of one key, in one thread, and every thread gets the value', async () => {
    const computesBefore = sharedCacheStats().computes;
    const res = await Promise.all(Array.from({ length: 50 }, () => pool.json('/cache?key=fifty&n=100000&ms=200')));
    expect(res.map((r) => r.status).filter((s) => s !== 200)).to.deep.equal([]);
    expect(res.filter((r) => r.body.computed === true)).to.have.length(1);
    for (const r of res) expect(r.body).to.include({ shared: true, length: 100000, last: 99999 });
    expect(new Set(res.map((r) => r.body.threadId)).size).to.be.greaterThan(1);
    expect(sharedCacheStats().computes - computesBefore).to.equal(1);
  });

  it('shares the memory: a value written in one thread is read by every thread', async () => {
    expect((await pool.json('/cache-write?key=cell&v=4242')).status).to.equal(200);
    const gate = new Gate('cache');
    // Hold 4 reads open at once so they run on 4 different threads.
    const reads = [1, 2, 3, 4].map(() => pool.json(`/cache-read?key=cell&${gate.query}`));
    await waitUntil('4 threads hold a read', () => pool.dispatcher.stats().busy === 4);
    gate.open();
    const res = await Promise.all(reads);
    expect(new Set(res.map((r) => r.body.threadId)).size).to.equal(4);
    expect(res.map((r) => r.body.value)).to.deep.equal([4242, 4242, 4242, 4242]);
    // And the main thread sees the same memory too.
    const onMain = await sharedCache().getOrCompute('cell', () => sharedArray(Int32Array, 4));
    expect(Atomics.load(onMain, 0)).to.equal(4242);
    Atomics.store(onMain, 0, 7);
    expect((await pool.json('/cache-read?key=cell')).body.value).to.equal(7);
  });

  it('evicts a deleted key everywhere: the next get computes again', async () => {
    await pool.json('/cache?key=evict&n=10');
    expect((await pool.json('/cache?key=evict&n=10')).body.computed).to.equal(false);
    sharedCache().delete('evict');
    const again = await pool.json('/cache?key=evict&n=10');
    expect(again.body.computed).to.equal(true);
  });
});

describe('shared cache on the main thread (single mode)', () => {
  it('single-flights concurrent misses and hands out shared typed arrays', async () => {
    let computes = 0;
    const compute = async (): Promise<Float64Array> => {
      computes++;
      await new Promise((r) => setTimeout(r, 20));
      return Float64Array.from([1, 2, 3]); // not shared: the cache copies it once into shared memory
    };
    const all = await Promise.all(Array.from({ length: 20 }, () => sharedCache().getOrCompute('main-key', compute)));
    expect(computes).to.equal(1);
    expect(all[0].buffer).to.be.instanceOf(SharedArrayBuffer);
    expect(new Set(all.map((a) => a.buffer)).size).to.equal(1); // one memory, whatever the views
    expect([...all[0]]).to.deep.equal([1, 2, 3]);
  });

  it('passes a compute error to every waiter, and the next call computes again', async () => {
    let calls = 0;
    const failing = async (): Promise<Int32Array> => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('source down');
    };
    const results = await Promise.allSettled([1, 2, 3].map(() => sharedCache().getOrCompute('flaky', failing)));
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'rejected', 'rejected']);
    expect(results.map((r) => (r as PromiseRejectedResult).reason.message)).to.deep.equal(['source down', 'source down', 'source down']);
    expect(calls).to.equal(1);
    const ok = await sharedCache().getOrCompute('flaky', () => sharedArray(Int32Array, 2));
    expect(ok.length).to.equal(2);
  });

  it('refuses a value that is not a typed array, naming the fix', async () => {
    let err: unknown;
    try {
      await sharedCache().getOrCompute('bad', () => ({ a: 1 }) as unknown as Int32Array);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.match(/must return a typed array/);
  });
});
