/**
 * The caching tool's storage: a response as bytes (so the same entry can live in the thread pool's shared
 * cache), a bounded LRU for one heap, and a single-flight map so concurrent misses of one key run the app
 * once.
 */
import type { HeaderList } from '../types.js';
import type { ToolSharedCache } from './tool-def.js';

/** A stored response. `pass` marks "the response was not cacheable": waiters run the app themselves. */
export interface CachedResponse {
  status: string;
  headers: HeaderList;
  body: Buffer;
  /** Epoch ms when stored and when it stops being fresh. */
  stored: number;
  expires: number;
  /** The Vary names and the request's values of them when stored. */
  vary: string[];
  varyValues: string[];
  pass?: boolean;
}

/** Serialize: a 4-byte length, the JSON of everything but the body, then the body. */
export function encodeResponse(r: CachedResponse): Uint8Array {
  const head = Buffer.from(JSON.stringify({ ...r, body: undefined }));
  // Shared memory from the start: the pool's shared cache then keeps it without a copy (and it accepts
  // plain typed arrays only, not Buffers).
  const bytes = new Uint8Array(new SharedArrayBuffer(4 + head.length + r.body.length));
  const out = Buffer.from(bytes.buffer, 0, bytes.byteLength);
  out.writeUInt32BE(head.length, 0);
  head.copy(out, 4);
  r.body.copy(out, 4 + head.length);
  return bytes;
}

/** Deserialize (the body is a view, not a copy). */
export function decodeResponse(bytes: Uint8Array): CachedResponse {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = b.readUInt32BE(0);
  const head = JSON.parse(b.subarray(4, 4 + n).toString()) as Omit<CachedResponse, 'body'>;
  return { ...head, body: b.subarray(4 + n) };
}

/** Where entries live: one heap's LRU, or the thread pool's shared cache. */
export interface EntryStore {
  /**
   * The entry for `key`; on a miss `compute` runs once for all concurrent callers (single-flight), and
   * `computed` tells the caller whether it ran its own compute.
   */
  getOrCompute(key: string, compute: () => Promise<CachedResponse>): Promise<{ entry: CachedResponse; computed: boolean }>;
  /** Keep `entry` under `key` (a response computed under another key, once its Vary names are known). */
  put(key: string, entry: CachedResponse): void;
  delete(key: string): void;
}

/** Entries in this heap, bounded by count and bytes, least recently used evicted first. */
export class LocalEntries implements EntryStore {
  private readonly entries = new Map<string, CachedResponse>();
  private readonly flights = new Map<string, Promise<CachedResponse>>();
  private bytes = 0;

  constructor(private readonly maxObjects: number, private readonly maxSize: number) {}

  async getOrCompute(key: string, compute: () => Promise<CachedResponse>): Promise<{ entry: CachedResponse; computed: boolean }> {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key); // re-insert: most recently used last
      this.entries.set(key, hit);
      return { entry: hit, computed: false };
    }
    const flight = this.flights.get(key);
    if (flight !== undefined) return { entry: await flight, computed: false };
    const p = compute();
    this.flights.set(key, p);
    try {
      const entry = await p;
      if (entry.pass !== true) this.put(key, entry);
      return { entry, computed: true };
    } finally {
      this.flights.delete(key);
    }
  }

  put(key: string, entry: CachedResponse): void {
    if (entry.body.length > this.maxSize) return;
    this.delete(key);
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
    for (const [k] of this.entries) {
      if (this.entries.size <= this.maxObjects && this.bytes <= this.maxSize) break;
      this.delete(k);
    }
  }

  delete(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.entries.delete(key);
    this.bytes -= e.body.length;
  }

  /** Entries held, for tests and stats. */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * Entries in the thread pool's shared cache: one copy for every thread, single-flight across threads. The
 * shared cache has no eviction of its own, so each thread bounds the keys it stored (count and bytes) and
 * deletes its oldest; expired entries are deleted when met.
 */
export class SharedEntries implements EntryStore {
  private readonly mine = new Map<string, number>();
  private bytes = 0;

  constructor(private readonly shared: ToolSharedCache, private readonly maxObjects: number, private readonly maxSize: number) {}

  async getOrCompute(key: string, compute: () => Promise<CachedResponse>): Promise<{ entry: CachedResponse; computed: boolean }> {
    let computed = false;
    const bytes = await this.shared.getOrCompute(key, async () => {
      computed = true;
      return encodeResponse(await compute());
    });
    const entry = decodeResponse(bytes);
    if (computed) {
      // A pass marker only tells this flight's waiters to run the app themselves: it must not stay.
      if (entry.pass === true || entry.body.length > this.maxSize) this.shared.delete(key);
      else this.track(key, entry.body.length);
    }
    return { entry, computed };
  }

  put(key: string, entry: CachedResponse): void {
    if (entry.body.length > this.maxSize) return;
    void this.shared.getOrCompute(key, () => encodeResponse(entry)).then(() => this.track(key, entry.body.length), () => {});
  }

  private track(key: string, size: number): void {
    this.mine.set(key, size);
    this.bytes += size;
    for (const [k] of this.mine) {
      if (this.mine.size <= this.maxObjects && this.bytes <= this.maxSize) break;
      this.delete(k);
    }
  }

  delete(key: string): void {
    const size = this.mine.get(key);
    if (size !== undefined) {
      this.mine.delete(key);
      this.bytes -= size;
    }
    this.shared.delete(key);
  }
}
