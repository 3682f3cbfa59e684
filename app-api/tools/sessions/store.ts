/**
 * What a session store does. Every store keeps JSON text with an absolute expiry, and a lock per session id
 * that holds across whatever shares the store: the memory store locks within one heap, the file store
 * across threads and processes on one machine (lock files), the redis store across machines.
 */

/** Release a session lock. */
export type Unlock = () => Promise<void>;

/** A session store. Ids reaching a store are valid (ids.ts): stores may use them in paths and keys. */
export interface SessionStore {
  /** The session as saved (data and expiry), or undefined when there is none or it expired. */
  load(id: string): Promise<StoredSession | undefined>;
  /** Save `data`, to expire `ttlMs` from now. */
  save(id: string, data: Record<string, unknown>, ttlMs: number): Promise<void>;
  /** Forget the session (logout, or the old id after regeneration). */
  remove(id: string): Promise<void>;
  /**
   * Wait until no other request holds `id`, then hold it until `unlock()`. A holder that died leaves a lock
   * that ends after `staleMs`.
   */
  lock(id: string, staleMs: number): Promise<Unlock>;
  /** Release connections and timers. */
  close(): Promise<void>;
}

/** The JSON a store keeps for one session. */
export interface StoredSession {
  /** Epoch milliseconds. */
  expires: number;
  data: Record<string, unknown>;
}

/** Parse what a store kept; undefined when unreadable or expired. */
export function readStored(text: string | null | undefined, now = Date.now()): StoredSession | undefined {
  if (text === null || text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as StoredSession;
    if (typeof s.expires !== 'number' || s.expires <= now || s.data === null || typeof s.data !== 'object' || Array.isArray(s.data)) return undefined;
    return s;
  } catch {
    return undefined;
  }
}

/** The text a store keeps. */
export function writeStored(data: Record<string, unknown>, ttlMs: number): string {
  return JSON.stringify({ expires: Date.now() + ttlMs, data } satisfies StoredSession);
}

/** A lock within one heap: requests for one key run one after the other, in arrival order. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async lock(key: string): Promise<() => void> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}

/** Sleep, for lock polling. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
