/**
 * Sessions in redis (through ioredis): shared by every process and machine that uses the same server. The
 * data key expires in redis itself (PX); the lock is `SET lock token NX PX staleMs`, released only by its
 * holder (a compare-and-delete script), so a lock outliving staleMs cannot be released by the wrong request.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { readStored, sleep, writeStored, type SessionStore, type StoredSession, type Unlock } from './store.js';

const UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** The redis store. */
export class RedisStore implements SessionStore {
  private readonly redis: Redis;

  constructor(url: string, private readonly prefix = 'tsgi:session:') {
    // Loaded on first use: every worker process and forked child imports the tools registry, and only
    // servers with redis sessions should pay for loading the client.
    const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
    this.redis = new RedisClient(url, { maxRetriesPerRequest: 3, lazyConnect: false });
    // Connection errors surface on the commands (a 500 for that request, logged); the client reconnects.
    this.redis.on('error', () => {});
  }

  async load(id: string): Promise<StoredSession | undefined> {
    return readStored(await this.redis.get(this.prefix + id));
  }

  async save(id: string, data: Record<string, unknown>, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + id, writeStored(data, ttlMs), 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async remove(id: string): Promise<void> {
    await this.redis.del(this.prefix + id);
  }

  async lock(id: string, staleMs: number): Promise<Unlock> {
    const key = `${this.prefix}${id}:lock`;
    const token = randomBytes(12).toString('base64url');
    let wait = 2;
    while ((await this.redis.set(key, token, 'PX', staleMs, 'NX')) !== 'OK') {
      await sleep(wait);
      wait = Math.min(wait * 2, 50);
    }
    return async () => {
      await this.redis.eval(UNLOCK, 1, key, token);
    };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
