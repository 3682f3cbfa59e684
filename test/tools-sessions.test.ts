/**
 * The three session stores (memory, file, redis) pass one table of cases, through inject() (the same core
 * as a real server): cookie and data round trip, ids the store does not know or did not generate are
 * replaced (no fixation, no path tricks: `../`, `/`, NUL), regeneration at login drops the old id, expiry,
 * and per-session locking (concurrent requests of one session lose no write). Redis is a real
 * redis-server on a free loopback port.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { inject, type InjectResponse } from '../gateway/core/inject.js';
import type { App } from '../app-api/types.js';
import { closeSessionStores, isValidSessionId, sessions, type SessionOptions } from '../app-api/tools/index.js';
import { app as fixture } from './fixtures/tools/app.js';
import { lint } from '../app-api/lint.js';
import { startRedis, type TestRedis } from './support/redis.js';

/** The session id a response sets, or undefined. */
export function cookieOf(res: Pick<InjectResponse, 'headers'>, name = 'session_id'): string | undefined {
  const m = new RegExp(`(?:^|\\n)${name}=([^;]*)`).exec(res.headers['set-cookie'] ?? '');
  return m?.[1];
}

interface StoreCase {
  name: string;
  options(): Partial<SessionOptions>;
}

describe('sessions: one table for the memory, file and redis stores', function () {
  this.timeout(30_000);
  let dir: string;
  let redis: TestRedis | undefined;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-sessions-'));
    redis = await startRedis(this);
  });
  after(async () => {
    await closeSessionStores();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const stores: StoreCase[] = [
    { name: 'memory', options: () => ({ storage_type: 'memory' }) },
    { name: 'file', options: () => ({ storage_type: 'file', storage_path: path.join(dir, 'store') }) },
    { name: 'redis', options: () => ({ storage_type: 'redis', redis_url: redis!.url }) },
  ];

  for (const store of stores) {
    describe(`${store.name} store`, () => {
      const wrap = (extra: Partial<SessionOptions> = {}): App => lint(sessions(fixture, { ...store.options(), ...extra }));
      const get = (app: App, url: string, id?: string): Promise<InjectResponse> => inject(app, { url, headers: id !== undefined ? { cookie: `session_id=${id}` } : {} });

      it('a new client gets a generated id in an HttpOnly cookie, and its data back on the next request', async () => {
        const app = wrap();
        const first = await get(app, '/set?color=blue');
        const id = cookieOf(first);
        expect(isValidSessionId(id), String(id)).to.equal(true);
        expect(first.headers['set-cookie']).to.match(/HttpOnly/i).and.match(/SameSite=Lax/i).and.match(/Path=\//);
        const second = await get(app, '/whoami', id);
        expect(second.json<{ id: string; session: unknown }>()).to.deep.include({ id, session: { color: 'blue' } });
        expect(cookieOf(second), 'no new cookie for a known id').to.equal(undefined);
      });

      it('an id the store does not know gets a fresh one (a client cannot choose its session id)', async () => {
        const app = wrap();
        const offered = 'A'.repeat(43);
        const res = await get(app, '/whoami', offered);
        const id = res.json<{ id: string }>().id;
        expect(id).to.not.equal(offered);
        expect(cookieOf(res)).to.equal(id);
      });

      for (const bad of ['../../../etc/passwd', '/etc/passwd', `${'a'.repeat(20)}%00${'b'.repeat(22)}`, `..%2F${'a'.repeat(38)}`, 'a'.repeat(44), `${'a'.repeat(42)}/`]) {
        it(`an injected id ${JSON.stringify(bad)} is rejected and a new id issued; nothing is written outside the store`, async () => {
          const app = wrap();
          const res = await get(app, '/set?x=1', bad);
          const id = cookieOf(res);
          expect(isValidSessionId(id)).to.equal(true);
          expect(id).to.not.equal(bad);
          if (store.name === 'file') {
            for (const f of readdirSync(path.join(dir, 'store'))) expect(f, f).to.match(/^session-[A-Za-z0-9_-]{43}(\.lock)?$/);
            expect(existsSync(path.join(dir, 'passwd'))).to.equal(false);
          }
        });
      }

      it('an id that would name a session file outside the store is not read', async () => {
        // A well-formed session file one level above the store: `x/../../evil` would reach it by path.
        writeFileSync(path.join(dir, 'evil'), JSON.stringify({ expires: Date.now() + 3_600_000, data: { admin: true } }));
        const res = await get(wrap(), '/whoami', 'x/../../evil');
        expect(res.json<{ session: unknown }>().session).to.deep.equal({});
        expect(isValidSessionId(cookieOf(res))).to.equal(true);
      });

      it('regenerating at login moves the data to a new id and removes the old one', async () => {
        const app = wrap();
        const id = cookieOf(await get(app, '/set?cart=3'))!;
        const login = await get(app, '/login?user=ann', id);
        const { old, id: fresh } = login.json<{ old: string; id: string }>();
        expect(old).to.equal(id);
        expect(fresh).to.not.equal(id);
        expect(cookieOf(login)).to.equal(fresh);
        expect((await get(app, '/whoami', fresh)).json<{ session: unknown }>().session).to.deep.equal({ cart: '3', user: 'ann' });
        const reused = await get(app, '/whoami', id);
        expect(reused.json<{ id: string; session: unknown }>().session, 'the old id is gone').to.deep.equal({});
        expect(reused.json<{ id: string }>().id).to.not.equal(id);
      });

      it('a session expires after its timeout', async () => {
        const app = wrap({ timeout: 0.002 }); // 120 ms
        const id = cookieOf(await get(app, '/set?k=v'))!;
        expect((await get(app, '/whoami', id)).json<{ session: unknown }>().session).to.deep.equal({ k: 'v' });
        await new Promise((r) => setTimeout(r, 400));
        const later = await get(app, '/whoami', id);
        expect(later.json<{ session: unknown }>().session).to.deep.equal({});
        expect(cookieOf(later)).to.not.equal(id);
      });

      it('20 concurrent requests of one session each see the previous one\'s write (no lost update)', async () => {
        const app = wrap();
        const id = cookieOf(await get(app, '/set?start=1'))!;
        const all = await Promise.all(Array.from({ length: 20 }, () => get(app, '/count', id)));
        const ns = all.map((r) => r.json<{ n: number }>().n).sort((a, b) => a - b);
        expect(ns).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
        expect((await get(app, '/whoami', id)).json<{ session: { n: number } }>().session.n).to.equal(20);
      });

      it('two different sessions do not wait for each other', async () => {
        const app = wrap();
        const a = cookieOf(await get(app, '/set?who=a'))!;
        const b = cookieOf(await get(app, '/set?who=b'))!;
        // b's request completes while a's is still running (a waits on a slow page).
        let bDone = false;
        const slow = inject(wrap(), { url: '/slow?ms=300', headers: { cookie: `session_id=${a}` } }).then(() => bDone);
        await get(app, '/whoami', b);
        bDone = true;
        expect(await slow, 'b finished before a\'s slow request').to.equal(true);
      });
    });
  }
});
