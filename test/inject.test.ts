/**
 * app-api/inject.ts: requests built as the built-in server builds them, responses framed by the gateway
 * core, failures answered as over a socket. Apps run under lint() so the core's side is checked as well.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { inject } from '../gateway/core/inject.js';
import { lint, type LintError } from '../app-api/lint.js';
import type { App } from '../app-api/types.js';
import { app as echoEnviron } from '../examples/echo-environ/app.js';

interface Echo {
  environ: Record<string, unknown>;
  body: { length: number; sha256: string };
}

describe('inject', () => {
  let violations: LintError[];
  /** Lint both sides; a test fails if the gateway core or the app breaks SPEC.md. */
  const linted = (app: App): App => lint(app, { onViolation: (e) => void violations.push(e) });
  beforeEach(() => {
    violations = [];
  });
  afterEach(async () => {
    await new Promise((resolve) => setImmediate(resolve)); // lint's close() check runs a turn later
    expect(violations.map((e) => e.message)).to.deep.equal([]);
  });

  it('builds the CGI variables of a GET as the built-in server does', async () => {
    const res = await inject(linted(echoEnviron), { url: '/a%20b/caf%C3%A9?x=1&y=%20', headers: { Accept: 'text/html', 'User-Agent': 'test' } });
    expect(res.status).to.equal(200);
    expect(res.statusText).to.equal('OK');
    expect(res.headers['content-type']).to.equal('application/json');
    const env = res.json<Echo>().environ;
    expect(env).to.include({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/a b/caf\u00e9',
      QUERY_STRING: 'x=1&y=%20',
      REQUEST_URI: '/a%20b/caf%C3%A9?x=1&y=%20',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'localhost',
      HTTP_ACCEPT: 'text/html',
      HTTP_USER_AGENT: 'test',
      GATEWAY_INTERFACE: 'CGI/1.1',
      'tsgi.url_scheme': 'http',
    });
    expect(env['tsgi.version']).to.deep.equal([1, 0]);
    expect(env).to.not.have.property('CONTENT_LENGTH');
  });

  it('takes the scheme, host and port from an absolute URL', async () => {
    const env = (await inject(linted(echoEnviron), 'https://Secure.Example:8443/x')).json<Echo>().environ;
    expect(env).to.include({ 'tsgi.url_scheme': 'https', HTTPS: 'on', SERVER_NAME: 'secure.example', SERVER_PORT: '8443', HTTP_HOST: 'Secure.Example:8443', PATH_INFO: '/x' });
  });

  it('POSTs a string body with Content-Length and Content-Type', async () => {
    const body = '{"hello":"w\u00f6rld"}';
    const res = await inject(linted(echoEnviron), { method: 'POST', url: '/items', body, headers: { 'Content-Type': 'application/json' } });
    const echo = res.json<Echo>();
    expect(echo.environ).to.include({ REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(Buffer.byteLength(body)) });
    expect(echo.environ).to.not.have.property('HTTP_CONTENT_TYPE');
    expect(echo.body).to.deep.equal({ length: Buffer.byteLength(body), sha256: createHash('sha256').update(body).digest('hex') });
  });

  it('POSTs a Buffer body, and a streamed body as chunked (no CONTENT_LENGTH)', async () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const a = (await inject(linted(echoEnviron), { method: 'PUT', url: '/', body: bytes })).json<Echo>();
    expect(a.body.length).to.equal(4);
    expect(a.environ.CONTENT_LENGTH).to.equal('4');
    const b = (await inject(linted(echoEnviron), { method: 'POST', url: '/', body: (async function* () { yield 'abc'; yield Buffer.from('def'); })() })).json<Echo>();
    expect(b.body).to.deep.equal({ length: 6, sha256: createHash('sha256').update('abcdef').digest('hex') });
    expect(b.environ).to.not.have.property('CONTENT_LENGTH');
    expect(b.environ.HTTP_TRANSFER_ENCODING).to.equal('chunked');
  });

  it('joins repeated headers, Cookie with "; ", and drops Proxy and names with "_"', async () => {
    const env = (await inject(linted(echoEnviron), {
      url: '/',
      headers: [['X-Multi', 'a'], ['X-Multi', 'b'], ['Cookie', 'a=1'], ['Cookie', 'b=2'], ['Proxy', 'http://evil.example'], ['X_Forwarded_For', '6.6.6.6'], ['X-Forwarded-For', '10.0.0.1']],
    })).json<Echo>().environ;
    expect(env).to.include({ HTTP_X_MULTI: 'a, b', HTTP_COOKIE: 'a=1; b=2', HTTP_X_FORWARDED_FOR: '10.0.0.1' });
    expect(env).to.not.have.property('HTTP_PROXY');
  });

  it('answers HEAD with the headers of the GET and no body', async () => {
    const hello: App = (_e, sr) => (sr('200 OK', [['Content-Type', 'text/plain']]), ['Hello, world!\n']);
    const get = await inject(linted(hello), '/');
    const head = await inject(linted(hello), { method: 'HEAD', url: '/' });
    expect(head.status).to.equal(200);
    expect(head.headers['content-length']).to.equal('14').and.equal(get.headers['content-length']);
    expect(head.body.length).to.equal(0);
    expect(get.text).to.equal('Hello, world!\n');
  });

  it('sends no body and no Content-Length for 204, no body for 304', async () => {
    const noContent = await inject(linted((_e, sr) => (sr('204 No Content', [['X-Done', '1']]), [])), { method: 'DELETE', url: '/x' });
    expect(noContent.status).to.equal(204);
    expect(noContent.headers).to.deep.equal({ 'x-done': '1' });
    expect(noContent.body.length).to.equal(0);
    const notModified = await inject(linted((_e, sr) => (sr('304 Not Modified', [['ETag', '"v1"']]), [])), '/');
    expect(notModified.status).to.equal(304);
    expect(notModified.body.length).to.equal(0);
  });

  it('keeps repeated response headers in headerList and joins them in headers', async () => {
    const res = await inject(linted((_e, sr) => (sr('200 OK', [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]), ['x'])), '/');
    expect(res.headerList.filter(([n]) => n === 'Set-Cookie')).to.deep.equal([['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
    expect(res.headers['set-cookie']).to.equal('a=1, b=2');
  });

  it('answers a header-injection attempt with 500 and nothing of the header', async () => {
    const evil: App = (_e, sr) => (sr('200 OK', [['X-A', 'ok\r\nSet-Cookie: session=stolen'], ['X-B', 'b']]), ['secret body']);
    const res = await inject(evil, '/'); // without lint: the gateway itself refuses it
    expect(res.status).to.equal(500);
    expect(res.headerList.map(([n]) => n.toLowerCase())).to.deep.equal(['content-type', 'content-length']);
    expect(res.text).to.equal('Internal Server Error\n');
    expect(res.text + JSON.stringify(res.headerList)).to.not.include('stolen');
    expect(res.errors).to.include('TSGI_ERR_BAD_HEADER');
    const withLint = await inject(lint(evil), '/');
    expect(withLint.status).to.equal(500);
    expect(withLint.errors).to.include('tsgi lint [response.header-value] app:');
  });

  it('answers an app exception with 500 and puts the error in errors', async () => {
    const thrower: App = () => {
      throw new Error('kaboom in the app');
    };
    const res = await inject(linted(thrower), '/boom');
    expect(res.status).to.equal(500);
    expect(res.text).to.equal('Internal Server Error\n');
    expect(res.text).to.not.include('kaboom');
    expect(res.errors).to.include('kaboom in the app').and.include('GET /boom');
    const rejecting = await inject(linted(async () => Promise.reject(new Error('async kaboom'))), '/');
    expect(rejecting.status).to.equal(500);
    expect(rejecting.errors).to.include('async kaboom');
  });

  it('marks a response aborted when the body fails after the headers went out', async () => {
    const res = await inject(linted((_e, sr) => {
      sr('200 OK', []);
      return (async function* () {
        yield 'partial';
        throw new Error('stream broke');
      })();
    }), '/');
    expect(res.status).to.equal(200);
    expect(res.aborted).to.equal(true);
    expect(res.text).to.equal('partial');
    expect(res.errors).to.include('stream broke');
  });

  it('collects what the app writes to tsgi.errors', async () => {
    const res = await inject(linted((env, sr) => {
      env['tsgi.errors'].write('app says hi\n');
      sr('200 OK', []);
      return [];
    }), '/');
    expect(res.errors).to.equal('app says hi\n');
  });

  it('refuses what the server would refuse, without calling the app', async () => {
    let called = 0;
    const app: App = (_e, sr) => (called++, sr('200 OK', []), []);
    const bad = await inject(app, '/a%zz');
    expect(bad.status).to.equal(400);
    expect(bad.text).to.equal('Bad Request\n');
    expect(bad.errors).to.include('TSGI_ERR_BAD_REQUEST');
    const nul = await inject(app, '/a%00b');
    expect(nul.status).to.equal(400);
    const outside = await inject(app, { url: '/other', scriptName: '/app' });
    expect(outside.status).to.equal(404);
    expect(called).to.equal(0);
  });

  it('mounts under scriptName and passes tsgi.app_config', async () => {
    const env = (await inject(linted(echoEnviron), { url: '/app/x', scriptName: '/app', appConfig: { greeting: 'hi' } })).json<Echo>().environ;
    expect(env).to.include({ SCRIPT_NAME: '/app', PATH_INFO: '/x' });
    expect(env['tsgi.app_config']).to.deep.equal({ greeting: 'hi' });
  });

  it('accepts a bare URL string and defaults to GET /', async () => {
    const env = (await inject(linted(echoEnviron))).json<Echo>().environ;
    expect(env).to.include({ REQUEST_METHOD: 'GET', PATH_INFO: '/' });
  });
});
