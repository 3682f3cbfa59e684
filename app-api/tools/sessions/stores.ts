/**
 * One store per storage in a heap: every `[/path]` section (and every call of sessions()) that names the
 * same storage shares one store, so a session set under `/` is seen under `/admin` in memory too.
 */
import { FileStore } from './file-store.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import type { SessionStore } from './store.js';

/** Where sessions are kept. */
export type StorageType = 'memory' | 'file' | 'redis';

const stores = new Map<string, SessionStore>();

/** The store for a storage type and its location (storage_path for file, redis_url for redis). */
export function storeFor(type: StorageType, where: string): SessionStore {
  const key = type === 'memory' ? 'memory' : `${type}:${where}`;
  let store = stores.get(key);
  if (store === undefined) {
    store = type === 'memory' ? new MemoryStore() : type === 'file' ? new FileStore(where) : new RedisStore(where);
    stores.set(key, store);
  }
  return store;
}

/** Close every store of this heap (tests; a server's exit closes the connections anyway). */
export async function closeSessionStores(): Promise<void> {
  const all = [...stores.values()];
  stores.clear();
  await Promise.all(all.map((s) => s.close()));
}
