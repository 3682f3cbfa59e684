/**
 * basicAuth and digestAuth through inject() under lint(): every htpasswd hash scheme, wrong password,
 * unknown user, users from a function, REMOTE_USER/AUTH_TYPE; Digest with SHA-256 and MD5, a file's other
 * realm, stale nonces (stale=true), forged nonces, nc replay, a signed uri that is not the request's.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { inject } from '../../gateway/core/inject.js';
import { lint } from '../../app-api/lint.js';
import type { App } from '../../app-api/types.js';
import { basicAuth, basicAuthTool, parseBasic } from '../../app-api/tools/auth/basic.js';
import { digestAuth } from '../../app-api/tools/auth/digest.js';
import { NonceCounts, NonceIssuer } from '../../app-api/tools/auth/digest-nonce.js';
import { parseDigest } from '../../app-api/tools/auth/digest-params.js';
import { challengesOf, digestAnswer } from '../support/digest-client.js';

/** test/fixtures/tools in the source tree (this file runs from dist/test/tools). */
export const TOOLS_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/tools');

const who: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [`${environ.AUTH_TYPE} ${environ.REMOTE_USER}`];
};

const basicHeader = (user: string, pw: string) => ({ authorization: 'Basic ' + Buffer.from(`${user}:${pw}`).toString('base64') });

describe('tools: basicAuth', () => {
  const warnings: string[] = [];
  const app = lint(basicAuth(who, { realm: 'tsgi "test"', users: path.join(TOOLS_FIXTURES, 'htpasswd'), warn: (m) => warnings.push(m) }));

  it('accepts bcrypt ($2y$), $apr1$, {SHA} and plain-text users and tells the app who', async () => {
    for (const user of ['alice', 'bob', 'carol', 'dave']) {
      const res = await inject(app, { headers: basicHeader(user, `${user}-pw`) });
      expect(res.status, user).to.equal(200);
      expect(res.text).to.equal(`Basic ${user}`);
    }
  });

  it('warns at load about plain-text passwords, naming the users', () => {
    expect(warnings.join('\n')).to.match(/plain-text passwords for dave/);
    expect(warnings.join('\n')).to.not.match(/alice|bob|carol/);
  });

  it('401 with a challenge for no credentials, a wrong password, an unknown user, garbage; failures logged', async () => {
    const none = await inject(app);
    expect(none.status).to.equal(401);
    expect(none.headers['www-authenticate']).to.equal('Basic realm="tsgi \\"test\\"", charset="UTF-8"');
    for (const [user, pw] of [['alice', 'bob-pw'], ['mallory', 'x'], ['bob', ''], ['carol', 'carol-pw ']]) {
      const res = await inject(app, { headers: basicHeader(user, pw) });
      expect(res.status, `${user}:${pw}`).to.equal(401);
      expect(res.errors).to.include(`user "${user}"`);
      expect(res.errors).to.not.include(pw === '' ? 'never' : pw);
    }
    expect((await inject(app, { headers: { authorization: 'Basic !!!' } })).status).to.equal(401);
    expect((await inject(app, { headers: { authorization: 'Bearer abc' } })).status).to.equal(401);
    expect(parseBasic('Basic ' + Buffer.from('a:b:c').toString('base64'))).to.deep.equal({ user: 'a', password: 'b:c' });
  });

  it('users from a function, async allowed', async () => {
    const fn = lint(basicAuth(who, { realm: 'r', users: async (u, p) => u === 'zed' && p === 'pw' }));
    expect((await inject(fn, { headers: basicHeader('zed', 'pw') })).text).to.equal('Basic zed');
    expect((await inject(fn, { headers: basicHeader('zed', 'no') })).status).to.equal(401);
  });

  it('the ToolDef reads the users file and routes warnings to ctx.warn', async () => {
    const seen: string[] = [];
    const tooled = lint(basicAuthTool.create(who, { realm: 'r', users_file: path.join(TOOLS_FIXTURES, 'htpasswd') }, { baseDir: '/', mountPath: '', multiprocess: false, warn: (m) => seen.push(m) }));
    expect((await inject(tooled, { headers: basicHeader('bob', 'bob-pw') })).status).to.equal(200);
    expect(seen).to.have.length(1);
  });
});

describe('tools: digestAuth', () => {
  const app = lint(digestAuth(who, { realm: 'tsgi-test', users: path.join(TOOLS_FIXTURES, 'htdigest') }));

  async function challenge(target: App, alg: string, url = '/x'): Promise<Record<string, string>> {
    const res = await inject(target, url);
    expect(res.status).to.equal(401);
    const all = res.headerList.filter(([n]) => n === 'WWW-Authenticate').map(([, v]) => parseDigest(v)!);
    const c = all.find((x) => x.algorithm === alg);
    expect(c, alg).to.not.equal(undefined);
    return c!;
  }

  it('challenges with SHA-256 first, then MD5, qop=auth', async () => {
    const res = await inject(app, '/x');
    const values = res.headerList.filter(([n]) => n === 'WWW-Authenticate').map(([, v]) => v);
    expect(values).to.have.length(2);
    expect(values[0]).to.match(/^Digest realm="tsgi-test", qop="auth", algorithm=SHA-256, nonce="[^"]+", opaque="[^"]+"$/);
    expect(values[1]).to.match(/algorithm=MD5/);
    expect(challengesOf(values.join(', '))).to.have.length(2);
  });

  for (const alg of ['SHA-256', 'MD5']) {
    it(`${alg}: the right password passes with REMOTE_USER; wrong password and unknown user are 401`, async () => {
      const c = await challenge(app, alg, '/x?q=1');
      const ok = await inject(app, { url: '/x?q=1', headers: { authorization: digestAnswer(c, 'alice', 'alice-pw', 'GET', '/x?q=1') } });
      expect(ok.status).to.equal(200);
      expect(ok.text).to.equal('Digest alice');
      const wrong = await inject(app, { url: '/x?q=1', headers: { authorization: digestAnswer(c, 'alice', 'nope', 'GET', '/x?q=1') } });
      expect(wrong.status).to.equal(401);
      expect(wrong.errors).to.match(/wrong password for user "alice"/);
      const unknown = await inject(app, { url: '/x?q=1', headers: { authorization: digestAnswer(c, 'mallory', 'x', 'GET', '/x?q=1') } });
      expect(unknown.status).to.equal(401);
      expect(unknown.errors).to.match(/unknown user "mallory"/);
    });
  }

  it('an MD5-only user cannot answer SHA-256; lines of another realm are ignored', async () => {
    const sha = await challenge(app, 'SHA-256');
    const erinSha = await inject(app, { url: '/x', headers: { authorization: digestAnswer(sha, 'erin', 'erin-pw', 'GET', '/x') } });
    expect(erinSha.status).to.equal(401);
    expect(erinSha.errors).to.match(/no SHA-256 HA1/);
    const md5 = await challenge(app, 'MD5');
    expect((await inject(app, { url: '/x', headers: { authorization: digestAnswer(md5, 'erin', 'erin-pw', 'GET', '/x') } })).status).to.equal(200);
  });

  it('a replayed nonce count is refused; a growing one passes', async () => {
    const c = await challenge(app, 'SHA-256');
    const auth1 = digestAnswer(c, 'alice', 'alice-pw', 'GET', '/x', 1);
    expect((await inject(app, { url: '/x', headers: { authorization: auth1 } })).status).to.equal(200);
    const replay = await inject(app, { url: '/x', headers: { authorization: auth1 } });
    expect(replay.status).to.equal(401);
    expect(replay.errors).to.match(/replayed nonce count/);
    expect((await inject(app, { url: '/x', headers: { authorization: digestAnswer(c, 'alice', 'alice-pw', 'GET', '/x', 2) } })).status).to.equal(200);
  });

  it('an expired nonce with the right password gets stale=true; a forged nonce or another uri does not pass', async () => {
    const stale = lint(digestAuth(who, { realm: 'tsgi-test', users: (u) => (u === 'zed' ? 'pw' : undefined), nonceTtl: -1 }));
    const c = await challenge(stale, 'MD5');
    const res = await inject(stale, { url: '/x', headers: { authorization: digestAnswer(c, 'zed', 'pw', 'GET', '/x') } });
    expect(res.status).to.equal(401);
    expect(res.headers['www-authenticate']).to.include('stale=true');
    const wrongPw = await inject(stale, { url: '/x', headers: { authorization: digestAnswer(c, 'zed', 'bad', 'GET', '/x') } });
    expect(wrongPw.headers['www-authenticate']).to.not.include('stale=true');
    const forged = { ...(await challenge(app, 'MD5')), nonce: 'abc.def.ghi' };
    expect((await inject(app, { url: '/x', headers: { authorization: digestAnswer(forged, 'alice', 'alice-pw', 'GET', '/x') } })).status).to.equal(401);
    const c2 = await challenge(app, 'MD5');
    const other = await inject(app, { url: '/y', headers: { authorization: digestAnswer(c2, 'alice', 'alice-pw', 'GET', '/x') } });
    expect(other.status).to.equal(401);
    expect(other.errors).to.match(/signed uri/);
  });

  it('nonces: the same key in two instances accepts each other\'s (pool workers); expiry and counts by a clock', () => {
    let now = 1_000_000;
    const a = new NonceIssuer(Buffer.from('k'), 1000, () => now);
    const b = new NonceIssuer(Buffer.from('k'), 1000, () => now);
    const other = new NonceIssuer(Buffer.from('other'), 1000, () => now);
    const n = a.issue();
    expect(b.check(n)).to.equal('ok');
    expect(other.check(n)).to.equal('bad');
    now += 1001;
    expect(b.check(n)).to.equal('stale');
    const counts = new NonceCounts(1000, () => now);
    expect(counts.accept(n, 1)).to.equal(true);
    expect(counts.accept(n, 1)).to.equal(false);
    expect(counts.accept(n, 3)).to.equal(true);
    expect(counts.accept(n, 2)).to.equal(false);
  });

  it('parses quoted-string escapes and refuses repeated parameters', () => {
    expect(parseDigest('Digest username="a\\"b", realm=x')).to.deep.equal({ username: 'a"b', realm: 'x' });
    expect(parseDigest('Digest a=1, a=2')).to.equal(null);
    expect(parseDigest('Basic abc')).to.equal(null);
  });
});
