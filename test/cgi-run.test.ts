/**
 * The CGI front, as a web server runs it: examples/cgi/app.cgi spawned with a CGI environment and the body
 * on stdin, the response read from stdout, the log from stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { pattern } from './support/cgi-apps.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = ROOT + 'examples/cgi/app.cgi';
const APP = ROOT + 'dist/test/support/cgi-apps.js';

interface CgiResult {
  code: number | null;
  status: number;
  headers: Record<string, string>;
  raw: string;
  body: Buffer;
  stderr: string;
}

/** The variables Apache mod_cgi sets for a request, plus `extra`. */
function cgiEnv(method: string, path: string, query = '', extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: method,
    SCRIPT_NAME: '/cgi-bin/app.cgi',
    PATH_INFO: path,
    QUERY_STRING: query,
    REQUEST_URI: `/cgi-bin/app.cgi${path}${query ? '?' + query : ''}`,
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: 'Apache',
    REMOTE_ADDR: '127.0.0.1',
    HTTP_HOST: 'localhost',
    TSGI_APP: APP,
    ...extra,
  };
}

/**
 * Spawn the entry script like a web server: env, body on stdin, read stdout to EOF. `rawEnv` values are
 * byte strings given as printf(1) formats (`'/a\\303'` is `/a` + byte 0xC3): a web server passes bytes, and
 * a JS string in `env` can only hold UTF-8.
 */
function runScript(env: Record<string, string>, stdin: Buffer = Buffer.alloc(0), rawEnv: Record<string, string> = {}): Promise<CgiResult> {
  return new Promise((resolve, reject) => {
    const raw = Object.keys(rawEnv);
    const child = raw.length === 0
      ? spawn(SCRIPT, [], { env, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `${raw.map((k, i) => `${k}=$(printf "$RAW${i}"); export ${k}; unset RAW${i}`).join('; ')}; exec "$0"`, SCRIPT], {
          env: { ...env, ...Object.fromEntries(raw.map((k, i) => [`RAW${i}`, rawEnv[k]])) },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the CGI process did not exit within 20 s'));
    }, 20_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {}); // the script may exit without reading all of stdin
    child.stdin.end(stdin);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const all = Buffer.concat(out);
      const end = all.indexOf('\r\n\r\n');
      const raw = all.toString('latin1', 0, end === -1 ? all.length : end);
      const headers: Record<string, string> = {};
      for (const line of raw.split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ code, status: Number(/^(\d{3})/.exec(headers.status ?? '')?.[1] ?? 0), headers, raw, body: end === -1 ? Buffer.alloc(0) : all.subarray(end + 4), stderr: Buffer.concat(err).toString() });
    });
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('CGI front (examples/cgi/app.cgi)', function () {
  this.timeout(60_000);

  it('answers a GET: Status line first, the CGI variables in the environ, run_once', async () => {
    const r = await runScript(cgiEnv('GET', '/hello', 'a=1&b=2', { HTTP_ACCEPT: 'text/plain', HOME: '/root', SECRET_TOKEN: 'x' }));
    expect(r.code).to.equal(0);
    expect(r.raw).to.match(/^Status: 200 OK\r\nContent-Type: application\/json\r\nContent-Length: \d+$/);
    const { environ } = JSON.parse(r.body.toString());
    expect(environ).to.include({ REQUEST_METHOD: 'GET', SCRIPT_NAME: '/cgi-bin/app.cgi', PATH_INFO: '/hello', QUERY_STRING: 'a=1&b=2', HTTP_ACCEPT: 'text/plain', SERVER_SOFTWARE: 'Apache' });
    expect(environ).to.include({ 'tsgi.run_once': true, 'tsgi.multiprocess': true, 'tsgi.multithread': false });
    // Only request variables: not the process environment of the web server.
    for (const key of ['PATH', 'HOME', 'SECRET_TOKEN', 'TSGI_APP']) expect(environ, key).to.not.have.property(key);
    expect(r.stderr).to.not.include('LINT');
  });

  for (const size of [1, 1024 * 1024]) {
    it(`passes a ${size}-byte POST body from stdin (sha256)`, async () => {
      const body = randomBytes(size);
      const r = await runScript(cgiEnv('POST', '/up', '', { CONTENT_LENGTH: String(size), CONTENT_TYPE: 'application/octet-stream' }), body);
      expect(r.status).to.equal(200);
      expect(JSON.parse(r.body.toString()).body).to.deep.equal({ length: size, sha256: sha(body) });
      expect(r.stderr).to.not.include('LINT');
    });
  }

  it('reads exactly CONTENT_LENGTH bytes of stdin, even when more follow', async () => {
    const r = await runScript(cgiEnv('POST', '/up', '', { CONTENT_LENGTH: '5' }), Buffer.from('helloEXTRA'));
    expect(JSON.parse(r.body.toString()).body).to.deep.equal({ length: 5, sha256: sha(Buffer.from('hello')) });
  });

  it('chunked upload (Apache: no CONTENT_LENGTH, HTTP_TRANSFER_ENCODING=chunked): reads stdin to EOF (sha256)', async () => {
    const body = randomBytes(1024 * 1024 + 17);
    const r = await runScript(cgiEnv('POST', '/up', '', { HTTP_TRANSFER_ENCODING: 'chunked', CONTENT_TYPE: 'application/octet-stream' }), body);
    expect(r.status, r.stderr).to.equal(200);
    const echo = JSON.parse(r.body.toString());
    expect(echo.body).to.deep.equal({ length: body.length, sha256: sha(body) });
    expect(echo.environ).to.not.have.property('CONTENT_LENGTH');
    expect(echo.environ['tsgi.input_terminated']).to.equal(true);
    expect(r.stderr).to.not.include('LINT');
  });

  it('chunked upload read with readSync: stdin to EOF', async () => {
    const body = randomBytes(300_000);
    const r = await runScript(cgiEnv('POST', '/sync', '', { HTTP_TRANSFER_ENCODING: 'chunked' }), body);
    expect(r.status, r.stderr).to.equal(200);
    expect(JSON.parse(r.body.toString())).to.deep.equal({ length: body.length, sha256: sha(body) });
  });

  it('chunked upload with an empty body: the app reads zero bytes', async () => {
    const r = await runScript(cgiEnv('POST', '/up', '', { HTTP_TRANSFER_ENCODING: 'chunked' }));
    expect(r.status).to.equal(200);
    expect(JSON.parse(r.body.toString()).body).to.deep.equal({ length: 0, sha256: sha(Buffer.alloc(0)) });
  });

  it('ignores stdin without CONTENT_LENGTH (RFC 3875: no body)', async () => {
    const r = await runScript(cgiEnv('POST', '/up'), Buffer.from('stray'));
    expect(JSON.parse(r.body.toString()).body.length).to.equal(0);
  });

  it('lets a synchronous app read its body with readSync', async () => {
    const body = randomBytes(100_000);
    const r = await runScript(cgiEnv('POST', '/sync', '', { CONTENT_LENGTH: String(body.length) }), body);
    expect(r.status).to.equal(200);
    expect(JSON.parse(r.body.toString())).to.deep.equal({ length: body.length, sha256: sha(body) });
    expect(r.stderr).to.not.include('LINT');
  });

  it('passes the app status and headers as a Status line and header lines', async () => {
    const r = await runScript(cgiEnv('GET', '/status'));
    expect(r.raw).to.match(/^Status: 201 Created\r\n/);
    expect(r.headers['x-custom']).to.equal('yes');
    expect(r.body.toString()).to.equal('made\n');
  });

  it('answers Status: 500 when the app throws before headers, logs to stderr, exits 0', async () => {
    const r = await runScript(cgiEnv('GET', '/throw'));
    expect(r.code).to.equal(0);
    expect(r.status).to.equal(500);
    expect(r.stderr).to.include('boom before headers');
  });

  it('answers 500 and logs when the body on stdin is shorter than CONTENT_LENGTH', async () => {
    const r = await runScript(cgiEnv('POST', '/up', '', { CONTENT_LENGTH: '100' }), Buffer.from('short'));
    expect(r.status).to.equal(500);
    expect(r.stderr).to.include('TSGI_ERR_INPUT_CLOSED');
    expect(r.stderr).to.include('after 5 of the 100 body bytes');
  });

  it('httpoxy: HTTP_PROXY reaches neither the environ, nor process.env, nor a child process', async () => {
    const r = await runScript(cgiEnv('GET', '/proxy', '', { HTTP_PROXY: 'http://evil.example:3128' }));
    expect(JSON.parse(r.body.toString())).to.deep.equal({ environ: '<absent>', processEnv: '<absent>', child: '<absent>' });
  });

  it('exits when the response is written even if the app left a timer running', async () => {
    const r = await runScript(cgiEnv('GET', '/timer'));
    expect(r.code).to.equal(0);
    expect(r.status).to.equal(200);
  });

  it('HEAD: headers only', async () => {
    const r = await runScript(cgiEnv('HEAD', '/'));
    expect(r.status).to.equal(200);
    expect(r.body.length).to.equal(0);
  });

  it('answers 400 for a CONTENT_LENGTH that is not a number, without running the app', async () => {
    const r = await runScript(cgiEnv('POST', '/throw', '', { CONTENT_LENGTH: '12abc' }), Buffer.from('x'));
    expect(r.status).to.equal(400);
    expect(r.stderr).to.include('is not a decimal number');
    expect(r.stderr).to.not.include('boom');
  });

  it('answers 400 for a path that is not UTF-8 (PATH_INFO byte 0xC3, REQUEST_URI %C3), without running the app', async () => {
    const env = cgiEnv('GET', '/x', '', { REQUEST_URI: '/cgi-bin/app.cgi/a%C3' });
    delete env.PATH_INFO;
    const r = await runScript(env, undefined, { PATH_INFO: '/a\\303' });
    expect(r.status).to.equal(400);
    expect(r.body.toString()).to.equal('Bad Request\n');
    expect(r.stderr).to.include('not valid UTF-8');
  });

  it('answers 400 when the client sent the non-UTF-8 byte raw in the request target too', async () => {
    const env = cgiEnv('GET', '/x');
    delete env.PATH_INFO;
    delete env.REQUEST_URI;
    const r = await runScript(env, undefined, { PATH_INFO: '/a\\303', REQUEST_URI: '/cgi-bin/app.cgi/a\\303' });
    expect(r.status).to.equal(400);
  });

  it('a path that really holds U+FFFD (%EF%BF%BD, valid UTF-8) reaches the app', async () => {
    const r = await runScript(cgiEnv('GET', '/a\uFFFD', '', { REQUEST_URI: '/cgi-bin/app.cgi/a%EF%BF%BD' }));
    expect(r.status).to.equal(200);
    expect(JSON.parse(r.body.toString()).environ.PATH_INFO).to.equal('/a\uFFFD');
  });

  it('without REQUEST_URI a non-UTF-8 path cannot be told from U+FFFD: the app sees U+FFFD (documented limit)', async () => {
    const env = cgiEnv('GET', '/x');
    delete env.PATH_INFO;
    delete env.REQUEST_URI;
    const r = await runScript(env, undefined, { PATH_INFO: '/a\\303' });
    expect(r.status).to.equal(200);
    expect(JSON.parse(r.body.toString()).environ.PATH_INFO).to.equal('/a\uFFFD');
  });

  it('answers 500 and names the fix when the app module cannot be loaded', async () => {
    const r = await runScript(cgiEnv('GET', '/', '', { TSGI_APP: ROOT + 'no/such/app.js' }));
    expect(r.code).to.equal(0);
    expect(r.status).to.equal(500);
    expect(r.stderr).to.include('TSGI_ERR_APP_LOAD');
    const none = await runScript({ ...cgiEnv('GET', '/'), TSGI_APP: '' });
    expect(none.status).to.equal(500);
    expect(none.stderr).to.include('set APP in the CGI script, or TSGI_APP');
  });
});

/** `p`, or a rejection naming `what` after `ms` (a bound for a hung child, not a timing assertion). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

describe('CGI front: the response on stdout (big responses, client going away)', function () {
  this.timeout(60_000);
  let dir: string;
  const children: ChildProcess[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsgi-cgi-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const TEN_MB = 10 * 1024 * 1024;
  for (const array of [false, true]) {
    it(`a 10 MB response (${array ? 'one chunk of an array body' : 'streamed in 64 KiB chunks'}) arrives whole before the process exits`, async () => {
      const r = await runScript(cgiEnv('GET', '/big', `bytes=${TEN_MB}${array ? '&array=1' : ''}`));
      expect(r.code).to.equal(0);
      expect(r.status).to.equal(200);
      expect(r.body.length).to.equal(TEN_MB);
      expect(r.body.equals(pattern(TEN_MB)), 'the body bytes').to.equal(true);
    });
  }

  it('stdout redirected to a file (not a pipe): a 10 MB response is written whole', async () => {
    const file = join(dir, 'out.bin');
    const fd = openSync(file, 'w');
    try {
      const child = spawn(SCRIPT, [], { env: cgiEnv('GET', '/big', `bytes=${TEN_MB}`), stdio: ['ignore', fd, 'pipe'] });
      children.push(child);
      const code = await within(new Promise((r) => child.on('exit', r)), 30_000, 'exit');
      expect(code).to.equal(0);
    } finally {
      closeSync(fd);
    }
    const all = readFileSync(file);
    const body = all.subarray(all.indexOf('\r\n\r\n') + 4);
    expect(body.equals(pattern(TEN_MB))).to.equal(true);
  });

  /** Spawn `/endless` with a close() marker; resolve once `bytes` of the response were read. */
  async function startEndless(name: string, bytes: number): Promise<{ child: ChildProcess; marker: string; exited: Promise<number | null>; stderr: () => string }> {
    const marker = join(dir, name);
    const child = spawn(SCRIPT, [], { env: cgiEnv('GET', '/endless', `marker=${encodeURIComponent(marker)}`), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const err: Buffer[] = [];
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let received = 0;
    await within(new Promise<void>((resolve) => {
      child.stdout!.on('data', (c: Buffer) => {
        received += c.length;
        if (received >= bytes) {
          child.stdout!.pause();
          resolve();
        }
      });
    }), 30_000, `reading ${bytes} bytes`);
    return { child, marker, exited, stderr: () => Buffer.concat(err).toString() };
  }

  it('the web server closes the pipe mid-response (client gone): the body close() runs, the process exits 0', async () => {
    const { child, marker, exited, stderr } = await startEndless('closed-by-epipe', 256 * 1024);
    child.stdout!.destroy(); // the read end closes: the next write gets EPIPE
    const code = await within(exited, 20_000, 'the CGI process exiting after its stdout was closed');
    expect(code, stderr()).to.equal(0);
    expect(existsSync(marker), 'close() wrote its marker').to.equal(true);
    expect(Number(readFileSync(marker, 'utf8')), 'chunks produced: the body stopped early').to.be.below(4096);
  });

  it('SIGTERM from the web server while stdout is full: the body close() runs, the process exits 0', async () => {
    const { child, marker, exited, stderr } = await startEndless('closed-by-sigterm', 256 * 1024);
    // Not reading any more: the pipe fills and the sink waits for room, with the event loop free.
    child.kill('SIGTERM');
    const code = await within(exited, 20_000, 'the CGI process exiting after SIGTERM');
    expect(code, stderr()).to.equal(0);
    expect(existsSync(marker), 'close() wrote its marker').to.equal(true);
    expect(Number(readFileSync(marker, 'utf8'))).to.be.below(4096);
    expect(stderr()).to.include('SIGTERM');
  });
});

describe('CGI entry script: how it loads tsgi and the app', function () {
  this.timeout(60_000);
  let dir: string;
  const LINT = JSON.stringify(ROOT + 'dist/app-api/lint.js');

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsgi-cgi-load-'));
    // Top-level await: require() cannot load it (ERR_REQUIRE_ASYNC_MODULE), so main() falls back to import().
    writeFileSync(join(dir, 'tla.mjs'), [
      `import { lint } from ${LINT};`,
      `globalThis.__evaluations = (globalThis.__evaluations ?? 0) + 1;`,
      `const greeting = await Promise.resolve('top-level await');`,
      `export const app = lint((environ, startResponse) => {`,
      `  startResponse('200 OK', [['Content-Type', 'text/plain']]);`,
      `  return [Buffer.from(greeting + ' evaluated ' + globalThis.__evaluations + 'x')];`,
      `});`,
    ].join('\n'));
    // CommonJS, `module.exports = app`: no `app` or `default` property.
    writeFileSync(join(dir, 'app.cjs'), [
      `const { lint } = require(${LINT});`,
      `module.exports = lint((environ, startResponse) => {`,
      `  startResponse('200 OK', [['Content-Type', 'text/plain']]);`,
      `  return [Buffer.from('commonjs ' + environ.PATH_INFO)];`,
      `});`,
    ].join('\n'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves an ES module app with top-level await (loaded once, through import())', async () => {
    const r = await runScript(cgiEnv('GET', '/x', '', { TSGI_APP: join(dir, 'tla.mjs') }));
    expect(r.status, r.stderr).to.equal(200);
    expect(r.body.toString()).to.equal('top-level await evaluated 1x');
    expect(r.stderr).to.equal('');
  });

  it('serves a CommonJS app exported as module.exports', async () => {
    const r = await runScript(cgiEnv('GET', '/cjs', '', { TSGI_APP: join(dir, 'app.cjs') }));
    expect(r.status, r.stderr).to.equal(200);
    expect(r.body.toString()).to.equal('commonjs /cjs');
    expect(r.stderr).to.equal('');
  });

  it('the runtime bundle (dist/adapters/cgi/bundle.cjs) is newer than every module it was built from', () => {
    // A bundle older than its sources would serve old code to CGI while every other front serves the new.
    const bundle = ROOT + 'dist/adapters/cgi/bundle.cjs';
    const meta = JSON.parse(readFileSync(ROOT + 'dist/adapters/cgi/bundle.meta.json', 'utf8')) as { inputs: Record<string, unknown> };
    const inputs = Object.keys(meta.inputs);
    expect(inputs).to.include.members(['dist/adapters/cgi/main.js', 'dist/gateway/core/serve-app.js', 'dist/gateway/core/environ.js']);
    const built = statSync(bundle).mtimeMs;
    const stale = inputs.filter((f) => statSync(ROOT + f).mtimeMs > built);
    expect(stale, 'rebuild with `npm run build`').to.deep.equal([]);
  });

  it('without the bundle (tsgi built by tsc alone) it loads the ES modules and serves the same response', async () => {
    // A tsgi home whose dist/ has everything but bundle.cjs: symlinks into the real dist/.
    const home = join(dir, 'home');
    mkdirSync(join(home, 'dist', 'adapters', 'cgi'), { recursive: true });
    for (const d of ['app-api', 'gateway']) symlinkSync(ROOT + 'dist/' + d, join(home, 'dist', d));
    for (const f of readdirSync(ROOT + 'dist/adapters/cgi')) {
      if (f.endsWith('.js')) symlinkSync(ROOT + 'dist/adapters/cgi/' + f, join(home, 'dist', 'adapters', 'cgi', f));
    }
    expect(existsSync(join(home, 'dist', 'adapters', 'cgi', 'bundle.cjs'))).to.equal(false);
    const env = cgiEnv('GET', '/hello', 'a=1', { TSGI_HOME: home });
    const [viaModules, viaBundle] = [await runScript(env), await runScript(cgiEnv('GET', '/hello', 'a=1'))];
    expect(viaModules.status, viaModules.stderr).to.equal(200);
    expect(viaModules.raw).to.equal(viaBundle.raw);
    expect(JSON.parse(viaModules.body.toString()).environ).to.deep.equal(JSON.parse(viaBundle.body.toString()).environ);
  });
});
