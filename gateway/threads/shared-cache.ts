/**
 * A cache of typed arrays shared by every thread of the process, without copies.
 *
 * The values live in SharedArrayBuffers: a thread that gets a value gets a view over the same memory every
 * other thread sees, so one 500 MB table serves a pool of 16 threads in 500 MB. The main thread keeps the
 * index (key -> buffer) and coordinates misses: when 50 threads miss the same key at once, exactly one of
 * them runs `compute()` and the other 49 wait for its result (single-flight). Each thread memoizes the
 * views it has seen, so a hit after the first costs no message; `delete()` bumps an epoch counter in shared
 * memory that every thread checks before using its memo, so no thread hands out a deleted value afterwards.
 *
 *     import { sharedCache, sharedArray } from 'tsgi/gateway';
 *     const table = await sharedCache().getOrCompute('idf', () => {
 *       const a = sharedArray(Float64Array, 1_000_000); // already shared: no copy when cached
 *       fill(a);
 *       return a;
 *     });
 *
 * Works the same in single mode (main thread), threadPool and threading. It holds typed arrays only: plain
 * JS objects cannot be shared between threads (use single mode and async code for those), and nothing is
 * shared between processes (use Redis or similar across processPool/forking workers). See
 * docs/concurrency.md.
 */
import { isMainThread, type MessagePort } from 'node:worker_threads';
import { tsgiError } from '../../app-api/errors.js';

/** The typed arrays the cache holds. */
export type SharedTypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

const CONSTRUCTORS = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypeName = keyof typeof CONSTRUCTORS;

/** A value as it crosses threads: the buffer is shared (posting it copies nothing). */
interface Descriptor {
  buffer: SharedArrayBuffer;
  type: TypeName;
  byteOffset: number;
  length: number;
}

type CacheRequest =
  | { op: 'get'; rid: number; key: string }
  | { op: 'put'; key: string; value: Descriptor }
  | { op: 'fail'; key: string; message: string }
  | { op: 'delete'; key: string };

type CacheReply = { rid: number; hit: Descriptor } | { rid: number; compute: true } | { rid: number; error: string };

/** What a caller of the host gets back for a `get`. */
type Answer = { hit: Descriptor } | { compute: true } | { error: string };

/** Counters, for stats pages. */
export interface SharedCacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  /** Times a compute() ran (one per single-flight group). */
  computes: number;
  inflight: number;
}

const DELETED = {};

/** The main thread's index and single-flight coordinator. One per process. */
class CacheHost {
  private readonly entries = new Map<string, Descriptor>();
  private readonly inflight = new Map<string, { owner: object; waiters: ((a: Answer) => void)[]; computer: object }>();
  private readonly ports = new Set<MessagePort>();
  private counters = { hits: 0, misses: 0, computes: 0 };
  /** Bumped by every delete; each thread drops its memo when it sees a new value. */
  readonly epoch = new Int32Array(new SharedArrayBuffer(4));

  /** Connect a thread's cache port. */
  attach(port: MessagePort): void {
    this.ports.add(port);
    port.on('message', (m: CacheRequest) => this.onRequest(port, m));
    port.unref();
  }

  /** The thread is gone: a compute it owned will never finish, so its waiters get an error now. */
  detach(port: MessagePort): void {
    if (!this.ports.delete(port)) return;
    for (const [key, flight] of this.inflight) {
      if (flight.computer === port) this.settle(key, { error: `the thread computing shared cache key ${JSON.stringify(key)} ended before it finished; retry` });
    }
    port.close();
  }

  private onRequest(port: MessagePort, m: CacheRequest): void {
    if (m.op === 'get') this.get(m.key, port, (a) => port.postMessage({ rid: m.rid, ...a } as CacheReply));
    else if (m.op === 'put') this.put(m.key, m.value, port);
    else if (m.op === 'fail') this.fail(m.key, m.message, port);
    else this.delete(m.key);
  }

  get(key: string, owner: object, answer: (a: Answer) => void): void {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.counters.hits++;
      return answer({ hit });
    }
    this.counters.misses++;
    const flight = this.inflight.get(key);
    if (flight !== undefined) {
      flight.waiters.push(answer);
      return;
    }
    this.counters.computes++;
    this.inflight.set(key, { owner, waiters: [], computer: owner });
    answer({ compute: true });
  }

  put(key: string, value: Descriptor, owner: object): void {
    const flight = this.inflight.get(key);
    if (flight === undefined || flight.computer !== owner) return; // not this thread's to fill
    if (flight.owner !== DELETED) this.entries.set(key, value);
    this.settle(key, { hit: value });
  }

  fail(key: string, message: string, owner: object): void {
    const flight = this.inflight.get(key);
    if (flight !== undefined && flight.computer === owner) this.settle(key, { error: message });
  }

  private settle(key: string, a: Answer): void {
    const flight = this.inflight.get(key);
    if (flight === undefined) return;
    this.inflight.delete(key);
    for (const w of flight.waiters) w(a);
  }

  delete(key: string): void {
    this.entries.delete(key);
    // Also a compute in flight for the key: its result still reaches its waiters but is not stored.
    const flight = this.inflight.get(key);
    if (flight !== undefined) flight.owner = DELETED;
    Atomics.add(this.epoch, 0, 1);
  }

  stats(): SharedCacheStats {
    let bytes = 0;
    for (const d of this.entries.values()) bytes += d.length * CONSTRUCTORS[d.type].BYTES_PER_ELEMENT;
    return { entries: this.entries.size, bytes, ...this.counters, inflight: this.inflight.size };
  }
}

/** A thread's view of the cache. */
export interface SharedCache {
  /**
   * The value for `key`; on a miss, `compute()` runs in exactly one thread while the others wait for it.
   * If it throws, every waiter gets the error and the next call tries again.
   */
  getOrCompute<T extends SharedTypedArray>(key: string, compute: () => T | Promise<T>): Promise<T>;
  /** Evict `key` in every thread (views already handed out stay valid: the memory is freed when unused). */
  delete(key: string): void;
}

function describe(value: unknown): Descriptor {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) {
    throw new TypeError('sharedCache: compute() must return a typed array (Float64Array, Int32Array, ...); plain objects cannot be shared between threads');
  }
  const type = value.constructor.name as TypeName;
  if (!(type in CONSTRUCTORS)) throw new TypeError(`sharedCache: ${type} is not a supported typed array`);
  let arr = value as SharedTypedArray;
  if (!(arr.buffer instanceof SharedArrayBuffer)) {
    // One copy at insert time; allocate with sharedArray() to avoid even that.
    const copy = sharedArray(CONSTRUCTORS[type] as unknown as new (b: SharedArrayBuffer, o: number, l: number) => SharedTypedArray, arr.length);
    (copy as Uint8Array).set(arr as Uint8Array);
    arr = copy;
  }
  return { buffer: arr.buffer as SharedArrayBuffer, type, byteOffset: arr.byteOffset, length: arr.length };
}

function view(d: Descriptor): SharedTypedArray {
  const Ctor = CONSTRUCTORS[d.type] as unknown as new (b: SharedArrayBuffer, o: number, l: number) => SharedTypedArray;
  return new Ctor(d.buffer, d.byteOffset, d.length);
}

/** Shared by the local and the remote client: per-thread memo of views, single-flight through the host. */
abstract class Client implements SharedCache {
  private readonly memo = new Map<string, SharedTypedArray>();
  private memoEpoch = 0;

  constructor(private readonly epoch: Int32Array) {}

  protected abstract ask(key: string): Promise<Answer>;
  protected abstract store(key: string, value: Descriptor): void;
  protected abstract abandon(key: string, message: string): void;
  abstract delete(key: string): void;

  async getOrCompute<T extends SharedTypedArray>(key: string, compute: () => T | Promise<T>): Promise<T> {
    const epoch = Atomics.load(this.epoch, 0);
    if (epoch !== this.memoEpoch) {
      this.memo.clear();
      this.memoEpoch = epoch;
    }
    const known = this.memo.get(key);
    if (known !== undefined) return known as T;
    const a = await this.ask(key);
    if ('hit' in a) return this.remember(key, view(a.hit)) as T;
    if ('error' in a) throw new Error(a.error);
    let d: Descriptor;
    try {
      d = describe(await compute());
    } catch (err) {
      this.abandon(key, err instanceof Error ? err.message : String(err));
      throw err;
    }
    this.store(key, d);
    return this.remember(key, view(d)) as T;
  }

  /** Drop this thread's memo. */
  protected forget(): void {
    this.memo.clear();
  }

  private remember(key: string, v: SharedTypedArray): SharedTypedArray {
    // Not if a delete happened meanwhile: the value may be the deleted one.
    if (Atomics.load(this.epoch, 0) === this.memoEpoch) this.memo.set(key, v);
    return v;
  }
}

const MAIN = {};

/** The main thread's client: talks to the host directly. */
class LocalClient extends Client {
  protected ask(key: string): Promise<Answer> {
    return new Promise((resolve) => host.get(key, MAIN, resolve));
  }
  protected store(key: string, value: Descriptor): void {
    host.put(key, value, MAIN);
  }
  protected abandon(key: string, message: string): void {
    host.fail(key, message, MAIN);
  }
  delete(key: string): void {
    host.delete(key);
  }
}

/** A pool thread's client: talks to the host over its cache port. */
class RemoteClient extends Client {
  private rid = 0;
  private readonly pending = new Map<number, (a: Answer) => void>();

  constructor(private readonly port: MessagePort, epoch: SharedArrayBuffer) {
    super(new Int32Array(epoch));
    port.on('message', (m: CacheReply) => {
      const resolve = this.pending.get(m.rid);
      this.pending.delete(m.rid);
      resolve?.(m);
    });
    port.unref(); // an idle cache must not keep a thread alive
  }

  protected ask(key: string): Promise<Answer> {
    const rid = ++this.rid;
    return new Promise((resolve) => {
      this.pending.set(rid, resolve);
      this.port.postMessage({ op: 'get', rid, key } satisfies CacheRequest);
    });
  }
  protected store(key: string, value: Descriptor): void {
    this.port.postMessage({ op: 'put', key, value } satisfies CacheRequest);
  }
  protected abandon(key: string, message: string): void {
    this.port.postMessage({ op: 'fail', key, message } satisfies CacheRequest);
  }
  delete(key: string): void {
    // The host bumps the epoch when it gets this; until then this thread must not use its memo either.
    this.forget();
    this.port.postMessage({ op: 'delete', key } satisfies CacheRequest);
  }
}

const host = new CacheHost();
const local = new LocalClient(host.epoch);
let remote: RemoteClient | null = null;

/** The cache of this thread. Throws TSGI_ERR_CONFIG in a worker thread that tsgi did not start. */
export function sharedCache(): SharedCache {
  if (isMainThread) return local;
  if (remote === null) {
    throw tsgiError('TSGI_ERR_CONFIG', { where: 'sharedCache()', problem: 'this worker thread was not started by tsgi', fix: 'call it in the main thread or in threads tsgi started (threadPool, threading)' });
  }
  return remote;
}

/** A typed array over fresh shared memory, to fill and hand to the cache without a copy. */
export function sharedArray<T extends SharedTypedArray>(type: new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => T, length: number): T {
  const bytes = (type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT * length;
  return new type(new SharedArrayBuffer(bytes), 0, length);
}

/** Counters of the process-wide cache (main thread only). */
export function sharedCacheStats(): SharedCacheStats {
  return host.stats();
}

/** @internal The dispatcher connects each thread it starts; the thread gets the returned epoch buffer. */
export function attachCachePort(port: MessagePort): SharedArrayBuffer {
  host.attach(port);
  return host.epoch.buffer as SharedArrayBuffer;
}

/** @internal The dispatcher disconnects a thread that ended. */
export function detachCachePort(port: MessagePort): void {
  host.detach(port);
}

/** @internal A pool thread installs its end of the channel before loading the app. */
export function installCachePort(port: MessagePort, epoch: SharedArrayBuffer): void {
  remote = new RemoteClient(port, epoch);
}
