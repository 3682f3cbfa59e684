/**
 * The response cache through inject(): what HTTP lets a shared cache keep (no-store, private, max-age,
 * s-maxage, Expires, Vary), GET/HEAD only, and single-flight: 50 concurrent misses of one key run the app
 * exactly once.
 */
import { expect } from 'chai';
import { inject } from '../gateway/core/inject.js';
import { lint } from '../app-api/lint.js';
import type { App, HeaderList } from '../app-api/types.js';
import { caching } from '../app-api/tools/index.js';
import { freshnessMs } from '../app-api/tools/cache-policy.js';

/** An app answering with the headers it is given, counting its calls. */
function counting(headers: HeaderList, gate?: Promise<void>): { app: App; calls: () => number } {
  let calls = 0;
  const app: App = async (environ, startResponse) => {
    calls++;
    const mine = calls;
    if (gate !== undefined) await gate;
    startResponse('200 OK', [['Content-Type', 'text/plain'], ...headers]);
    return [`call ${mine} ${String(environ.HTTP_ACCEPT_LANGUAGE ?? '')}`];
  };
  return { app: lint(app), calls: () => calls };
}

describe('caching tool', () => {
  it('freshness: s-maxage over max-age over Expires over delay; no-store, private, no-cache, Set-Cookie, Vary: * and uncacheable statuses are not kept', () => {
    const now = Date.parse('2026-12-07T00:00:00Z');
    expect(freshnessMs('200 OK', [['Cache-Control', 'max-age=10, s-maxage=20']], 600, now)).to.equal(20_000);
    expect(freshnessMs('200 OK', [['Cache-Control', 'public, max-age=10']], 600, now)).to.equal(10_000);
    expect(freshnessMs('200 OK', [['Expires', 'Mon, 07 Dec 2026 00:00:30 GMT']], 600, now)).to.equal(30_000);
    expect(freshnessMs('200 OK', [['Expires', 'Sun, 06 Dec 2026 00:00:30 GMT']], 600, now)).to.equal(0);
    expect(freshnessMs('200 OK', [], 600, now)).to.equal(600_000);
    for (const h of [[['Cache-Control', 'no-store']], [['Cache-Control', 'private, max-age=60']], [['Cache-Control', 'no-cache']], [['Set-Cookie', 'a=b']], [['Vary', '*']]] as HeaderList[]) {
      expect(freshnessMs('200 OK', h, 600, now), JSON.stringify(h)).to.equal(0);
    }
    expect(freshnessMs('500 Internal Server Error', [], 600, now)).to.equal(0);
    expect(freshnessMs('302 Found', [], 600, now)).to.equal(0);
  });

  it('a fresh GET is served from the cache with an Age header; HEAD uses the GET entry; POST always runs the app', async () => {
    const { app, calls } = counting([['Cache-Control', 'max-age=60']]);
    const cached = lint(caching(app));
    expect((await inject(cached, '/a')).text).to.equal('call 1 ');
    const hit = await inject(cached, '/a');
    expect(hit.text).to.equal('call 1 ');
    expect(hit.headers.age).to.match(/^\d+$/);
    expect((await inject(cached, { method: 'HEAD', url: '/a' })).status).to.equal(200);
    expect(calls()).to.equal(1);
    await inject(cached, { method: 'POST', url: '/a', body: 'x' });
    expect(calls()).to.equal(2);
    expect((await inject(cached, '/a?q=1')).text, 'the query is part of the key').to.equal('call 3 ');
  });

  for (const cc of ['no-store', 'private', 'no-cache', 'max-age=0']) {
    it(`Cache-Control: ${cc} is not kept`, async () => {
      const { app, calls } = counting([['Cache-Control', cc]]);
      const cached = lint(caching(app));
      await inject(cached, '/');
      await inject(cached, '/');
      expect(calls()).to.equal(2);
    });
  }

  it('a request with Cache-Control: no-cache or Authorization bypasses the cache', async () => {
    const { app, calls } = counting([['Cache-Control', 'max-age=60']]);
    const cached = lint(caching(app));
    await inject(cached, '/');
    await inject(cached, { url: '/', headers: { 'cache-control': 'no-cache' } });
    await inject(cached, { url: '/', headers: { authorization: 'Basic eDp5' } });
    expect(calls()).to.equal(3);
  });

  it('Vary: each variant is kept apart', async () => {
    const { app, calls } = counting([['Cache-Control', 'max-age=60'], ['Vary', 'Accept-Language']]);
    const cached = lint(caching(app));
    const get = (lang: string) => inject(cached, { url: '/', headers: { 'accept-language': lang } });
    expect((await get('en')).text).to.equal('call 1 en');
    expect((await get('fr')).text).to.equal('call 2 fr');
    expect((await get('en')).text).to.equal('call 1 en');
    expect((await get('fr')).text).to.equal('call 2 fr');
    expect(calls()).to.equal(2);
  });

  it('a stale entry is computed again', async () => {
    const expiring = counting([['Expires', new Date(Date.now() + 1500).toUTCString()]]);
    const c2 = lint(caching(expiring.app));
    await inject(c2, '/');
    await inject(c2, '/');
    expect(expiring.calls()).to.equal(1);
    await new Promise((r) => setTimeout(r, 2100));
    await inject(c2, '/');
    expect(expiring.calls()).to.equal(2);
  });

  it('maxobjects evicts the least recently used entry', async () => {
    const { app, calls } = counting([['Cache-Control', 'max-age=60']]);
    const cached = lint(caching(app, { maxobjects: 2 }));
    for (const p of ['/1', '/2', '/1', '/3', '/1']) await inject(cached, p);
    expect(calls()).to.equal(3); // /1, /2, /3; /1 stayed (recently used), /2 was evicted
    await inject(cached, '/2');
    expect(calls()).to.equal(4);
  });

  it('50 concurrent misses on one key run the app exactly once and all get its response', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const { app, calls } = counting([['Cache-Control', 'max-age=60']], gate);
    const cached = lint(caching(app));
    const all = Array.from({ length: 50 }, () => inject(cached, '/hot'));
    await new Promise((r) => setImmediate(r));
    open();
    const bodies = (await Promise.all(all)).map((r) => r.text);
    expect(calls()).to.equal(1);
    expect(new Set(bodies)).to.deep.equal(new Set(['call 1 ']));
  });

  it('concurrent misses of an uncacheable response each run the app (a private answer is never shared)', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const { app, calls } = counting([['Cache-Control', 'private']], gate);
    const cached = lint(caching(app));
    const all = Array.from({ length: 5 }, () => inject(cached, '/me'));
    await new Promise((r) => setImmediate(r));
    open();
    const bodies = (await Promise.all(all)).map((r) => r.text);
    expect(calls()).to.equal(5);
    expect(new Set(bodies).size).to.equal(5);
  });

  it('a response larger than maxsize is streamed through whole and not kept', async () => {
    const big = 'x'.repeat(5000);
    let calls = 0;
    const app: App = lint((_e, s) => {
      calls++;
      s('200 OK', [['Content-Type', 'text/plain'], ['Cache-Control', 'max-age=60']]);
      return [big.slice(0, 2000), big.slice(2000)];
    });
    const cached = lint(caching(app, { maxsize: 1000 }));
    expect((await inject(cached, '/big')).text).to.equal(big);
    expect((await inject(cached, '/big')).text).to.equal(big);
    expect(calls).to.equal(2);
  });
});
