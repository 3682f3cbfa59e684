/**
 * The tools' cases over a real socket, run against every server the tests start (built-in HTTP in single
 * and threadPool mode, nginx -> FastCGI): the fixture app test/fixtures/tools/files-app.ts answers them, curl
 * does the Basic and Digest logins, a node client checks bytes, headers and the traversal rows.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { FIXTURES } from '../fixtures/tools/files-app.js';
import { sendRequest, type RawResponse } from '../support/http-client.js';
import { challengesOf, digestAnswer } from '../support/digest-client.js';

/** Where the fixture app answers: port, and the mount prefix the front adds (nginx: /app). */
export interface ToolTarget {
  port: number;
  prefix: string;
}

/** Run curl; resolves with the final body and status (`-w` appends it) and the headers of every response. */
export function curl(args: string[]): Promise<{ status: number; body: string; headers: string }> {
  const headerFile = path.join(tmpdir(), `tsgi-curl-${process.pid}-${randomBytes(6).toString('hex')}`);
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '20', '-D', headerFile, '-o', '-', '-w', '\n%{http_code}', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      let headers = '';
      try {
        headers = readFileSync(headerFile, 'utf8');
        rmSync(headerFile, { force: true });
      } catch {
        /* no response at all: the error below says why */
      }
      if (err !== null) return reject(new Error(`curl ${args.join(' ')}: ${err.message}\n${stderr}`));
      const cut = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut), headers });
    });
  });
}

const PAGE = readFileSync(path.join(FIXTURES, 'public', 'page.html'));

/** The traversal rows over the wire: none may return the file outside the public folder. */
const TRAVERSAL = ['/static/../outside.txt', '/static/%2e%2e/outside.txt', '/static/..%2foutside.txt', '/static/..%5coutside.txt', '/static//..//outside.txt', '/static/%2e%2e%2Foutside.txt', '/static/.%2e/outside.txt', '/static/%00/../outside.txt'];

/** Register the cases (mocha `it`s) for a target known once `before` has run. */
export function toolCases(target: () => ToolTarget): void {
  const get = (p: string, headers: Array<[string, string]> = [], method = 'GET'): Promise<RawResponse> =>
    sendRequest({ port: target().port }, { method, path: target().prefix + p, headers });
  const url = (p: string): string => `http://127.0.0.1:${target().port}${target().prefix}${p}`;

  it('static: the file, typed, with validators; 304 on If-None-Match; 206 for a range; HEAD', async () => {
    const res = await get('/static/page.html');
    expect(res.status).to.equal(200);
    expect(res.body.equals(PAGE)).to.equal(true);
    expect(res.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(res.headers['content-length']).to.equal(String(PAGE.length));
    expect(res.headers['vary']).to.equal('Accept-Encoding');
    const etag = res.headers['etag'];
    expect(etag).to.match(/^"/);
    expect((await get('/static/page.html', [['If-None-Match', etag]])).status).to.equal(304);
    const part = await get('/static/page.html', [['Range', 'bytes=100-199']]);
    expect(part.status).to.equal(206);
    expect(part.body.equals(PAGE.subarray(100, 200))).to.equal(true);
    const head = await get('/static/page.html', [], 'HEAD');
    expect(head.headers['content-length']).to.equal(String(PAGE.length));
    expect(head.body.length).to.equal(0);
    expect((await get('/static/sub/')).body.toString()).to.match(/sub index/);
    expect((await get('/favicon.ico')).body.toString()).to.equal('hello static\n');
    expect((await get('/static/missing.txt')).status).to.equal(404); // fell through to the tree: 404
  });

  it('static: nothing outside the folder over the wire (traversal rows)', async () => {
    for (const p of TRAVERSAL) {
      const res = await get(p);
      expect([400, 403, 404], p).to.include(res.status);
      expect(res.body.toString(), p).to.not.include('outside the root');
    }
  });

  it('gzip: curl --compressed gets the page compressed and intact; a streamed body is compressed chunk by chunk', async () => {
    const c = await curl(['--compressed', url('/static/page.html')]);
    expect(c.status).to.equal(200);
    expect(c.headers).to.match(/content-encoding: (br|gzip)/i);
    expect(c.body).to.equal(PAGE.toString());
    const s = await get('/stream', [['Accept-Encoding', 'gzip']]);
    expect(s.headers['content-encoding']).to.equal('gzip');
    const lines = zlib.gunzipSync(s.body).toString().split('\n');
    expect(lines).to.have.length(401);
    expect(lines[399]).to.match(/^line 399 z+$/);
  });

  it('auth: curl --basic and --digest log in; wrong password and unknown user get 401', async () => {
    expect(await curl(['--basic', '-u', 'bob:bob-pw', url('/basic/')])).to.include({ status: 200, body: 'Basic bob' });
    expect(await curl(['--basic', '-u', 'alice:alice-pw', url('/basic/x')])).to.include({ status: 200, body: 'Basic alice' });
    expect((await curl(['--basic', '-u', 'bob:wrong', url('/basic/')])).status).to.equal(401);
    expect((await curl(['--basic', '-u', 'nobody:x', url('/basic/')])).status).to.equal(401);
    expect(await curl(['--digest', '-u', 'alice:alice-pw', url('/digest/x?y=1')])).to.include({ status: 200, body: 'Digest alice' });
    // curl answers the first (SHA-256) challenge; erin's htdigest line is MD5 only, so that cannot pass.
    expect((await curl(['--digest', '-u', 'erin:erin-pw', url('/digest/')])).status).to.equal(401);
    expect((await curl(['--digest', '-u', 'alice:wrong', url('/digest/x')])).status).to.equal(401);
    expect((await curl(['--digest', '-u', 'nobody:x', url('/digest/x')])).status).to.equal(401);
  });

  it('auth: an expired nonce with the right password is answered stale=true (curl retries without the user, until its limit)', async () => {
    const first = await get('/stale/x');
    expect(first.status).to.equal(401);
    const md5 = challengesOf(first.headers['www-authenticate']).find((c) => c.algorithm === 'MD5')!;
    const again = await get('/stale/x', [['Authorization', digestAnswer(md5, 'alice', 'alice-pw', 'GET', target().prefix + '/stale/x')]]);
    expect(again.status).to.equal(401);
    expect(again.headers['www-authenticate']).to.include('stale=true');
    // curl takes stale=true as "same password, new nonce" and retries; every nonce here is stale, so it gives up.
    let failure = '';
    await curl(['--digest', '-u', 'alice:alice-pw', url('/stale/x')]).catch((err: Error) => (failure = err.message));
    expect(failure).to.match(/\(47\)/);
    // a wrong password is not stale: curl stops at the first 401
    expect((await curl(['--digest', '-u', 'alice:wrong', url('/stale/x')])).status).to.equal(401);
  });

  it('dispatch: object tree (exposed only), method dispatcher with 405 + Allow', async () => {
    expect((await get('/hello/ann')).body.toString()).to.equal('hello ann');
    expect((await get('/')).body.toString()).to.equal('tree index');
    expect((await get('/hidden')).status).to.equal(404);
    expect((await get('/api')).body.toString()).to.equal('api get');
    const post = await sendRequest({ port: target().port }, { method: 'POST', path: target().prefix + '/api', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: Buffer.from('x=42') });
    expect(post.body.toString()).to.equal('api post 42');
    const del = await get('/api', [], 'DELETE');
    expect(del.status).to.equal(405);
    expect(del.headers['allow']).to.equal('GET, HEAD, OPTIONS, POST');
  });
}
