/**
 * Sessions in this heap. Fast, and gone on restart; not shared between processes (processPool, forking) nor
 * between the threads of threadPool (each has its own heap), which is why the sessions tool warns then.
 */
import { KeyedMutex, readStored, writeStored, type SessionStore, type StoredSession, type Unlock } from './store.js';

/** The in-memory store. */
export class MemoryStore implements SessionStore {
  private readonly texts = new Map<string, string>();
  private readonly mutex = new KeyedMutex();
  private saves = 0;

  async load(id: string): Promise<StoredSession | undefined> {
    const data = readStored(this.texts.get(id));
    if (data === undefined) this.texts.delete(id);
    return data;
  }

  async save(id: string, data: Record<string, unknown>, ttlMs: number): Promise<void> {
    // Stored as text: the app's object is never shared between requests.
    this.texts.set(id, writeStored(data, ttlMs));
    if (++this.saves % 1000 === 0) this.sweep();
  }

  async remove(id: string): Promise<void> {
    this.texts.delete(id);
  }

  async lock(id: string): Promise<Unlock> {
    const release = await this.mutex.lock(id);
    return async () => release();
  }

  async close(): Promise<void> {}

  /** Drop expired sessions (every 1000 saves, so memory stays bounded by the live ones). */
  private sweep(): void {
    const now = Date.now();
    for (const [id, text] of this.texts) if (readStored(text, now) === undefined) this.texts.delete(id);
  }
}
