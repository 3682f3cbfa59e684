/**
 * Sessions as files in `storage_path`: `session-<id>` holds the JSON, written to a temporary name and
 * renamed so a reader never sees half a file; `session-<id>.lock` is the lock, created with O_EXCL so only
 * one thread or process holds it. Survives a restart; shared by every process on the machine (processPool,
 * forking, two servers on one storage_path). Expired files are removed when read and by a sweep every
 * five minutes, as CherryPy's clean_freq.
 */
import { promises as fs, mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { tsgiError } from '../../errors.js';
import { KeyedMutex, readStored, sleep, writeStored, type SessionStore, type StoredSession, type Unlock } from './store.js';

const PREFIX = 'session-';
const LOCK = '.lock';
const SWEEP_MS = 5 * 60_000;

/** The file store. */
export class FileStore implements SessionStore {
  private readonly local = new KeyedMutex();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly dir: string) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw tsgiError('TSGI_ERR_CONFIG', { where: 'tools.sessions.storage_path', problem: `cannot create ${dir} (${(err as NodeJS.ErrnoException).code})`, fix: 'give a writable directory' }, { cause: err });
    }
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  private file(id: string): string {
    return path.join(this.dir, PREFIX + id);
  }

  async load(id: string): Promise<StoredSession | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file(id), 'utf8');
    } catch {
      return undefined;
    }
    const data = readStored(text);
    if (data === undefined) await fs.rm(this.file(id), { force: true });
    return data;
  }

  async save(id: string, data: Record<string, unknown>, ttlMs: number): Promise<void> {
    const tmp = `${this.file(id)}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, writeStored(data, ttlMs), { mode: 0o600 });
    await fs.rename(tmp, this.file(id));
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.file(id), { force: true });
  }

  async lock(id: string, staleMs: number): Promise<Unlock> {
    // Requests of this heap queue here first, so only one of them polls the lock file.
    const releaseLocal = await this.local.lock(id);
    const lockFile = this.file(id) + LOCK;
    let wait = 2;
    for (;;) {
      try {
        const h = await fs.open(lockFile, 'wx', 0o600);
        await h.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          releaseLocal();
          throw err;
        }
      }
      // A process that died holding the lock leaves the file: it is stale after staleMs.
      const st = await fs.stat(lockFile).catch(() => null);
      if (st !== null && Date.now() - st.mtimeMs > staleMs) await fs.rm(lockFile, { force: true });
      await sleep(wait);
      wait = Math.min(wait * 2, 50);
    }
    return async () => {
      await fs.rm(lockFile, { force: true });
      releaseLocal();
    };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
  }

  /** Remove expired session files. */
  async sweep(): Promise<void> {
    const now = Date.now();
    for (const name of await fs.readdir(this.dir).catch(() => [] as string[])) {
      if (!name.startsWith(PREFIX) || name.endsWith(LOCK) || name.endsWith('.tmp')) continue;
      const file = path.join(this.dir, name);
      const text = await fs.readFile(file, 'utf8').catch(() => null);
      if (text !== null && readStored(text, now) === undefined) await fs.rm(file, { force: true });
    }
  }
}
