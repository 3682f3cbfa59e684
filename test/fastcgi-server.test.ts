/** The FastCGI front end to end over real sockets: roles, keep-conn, multiplexing, abort, management records. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { App, Body } from '../app-api/types.js';
import { app as echo } from '../examples/echo-environ/app.js';
import { beginRecord, cgiParams, FcgiClient, nameValues, record, ROLE, streamRecords, T, type FcgiResult } from './support/fcgi-client.js';
import { startFcgiHarness, type FcgiHarness } from './support/fcgi-harness.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function json(r: FcgiResult): { environ: Record<string, unknown>; body: { length: number; sha256: string } } {
  return JSON.parse(r.body.toString());
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('FastCGI front: responder', () => {
  let h: FcgiHarness;
  const clients: FcgiClient[] = [];
  const connect = async (): Promise<FcgiClient> => {
    const c = await FcgiClient.connect({ port: h.port });
    clients.push(c);
    return c;
  };
  before(async () => {
    h = await startFcgiHarness(echo);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    expect(h.violations.map(String)).to.deep.equal([]);
  });
  after(() => h.server.close(1000));

  for (const size of [0, 1, 1024 * 1024]) {
    it(`POST with a ${size}-byte body: the app sees every byte (sha256)`, async () => {
      const c = await connect();
      const body = Buffer.alloc(size);
      for (let i = 0; i < size; i++) body[i] = (i * 31 + 7) & 0xff;
      const r = await c.request({ params: cgiParams('POST', '/up', { CONTENT_LENGTH: String(size), CONTENT_TYPE: 'application/octet-stream' }), stdin: body });
      expect(r.status).to.equal(200);
      expect(r.protocolStatus).to.equal(0);
      expect(json(r).body).to.deep.equal({ length: size, sha256: sha256(body) });
    });
  }

  it('GET: CGI variables reach the environ, the response has Status and headers', async () => {
    const c = await connect();
    const r = await c.request({ params: cgiParams('GET', '/p?x=1&y=%20', { HTTP_ACCEPT: 'text/html', HTTP_COOKIE: 'a=b' }) });
    expect(r.status).to.equal(200);
    expect(r.headers).to.deep.include(['content-type', 'application/json']);
    const env = json(r).environ;
    expect(env).to.include({ REQUEST_METHOD: 'GET', QUERY_STRING: 'x=1&y=%20', REQUEST_URI: '/p?x=1&y=%20', HTTP_ACCEPT: 'text/html', HTTP_COOKIE: 'a=b', 'tsgi.url_scheme': 'http' });
    expect(env).to.not.have.property('tsgi.fcgi_role');
  });

  it('httpoxy: an HTTP_PROXY param never reaches the environ', async () => {
    const c = await connect();
    const r = await c.request({ params: cgiParams('GET', '/', { HTTP_PROXY: 'http://evil.example:3128' }) });
    expect(json(r).environ).to.not.have.property('HTTP_PROXY');
  });

  it('a UTF-8 PATH_INFO decodes as UTF-8; invalid UTF-8 gets 400 and the connection goes on', async () => {
    const c = await connect();
    const ok = await c.request({ id: 1, params: cgiParams('GET', '/x', { SCRIPT_NAME: '', PATH_INFO: '/caf\u00e9' }) });
    expect(json(ok).environ.PATH_INFO).to.equal('/caf\u00e9');
    const bad = await c.request({ id: 2, params: cgiParams('GET', '/x', { SCRIPT_NAME: '', PATH_INFO: Buffer.from([0x2f, 0xff]) as unknown as string }) });
    expect(bad.status).to.equal(400);
    const after = await c.request({ id: 3, params: cgiParams('GET', '/y') });
    expect(after.status).to.equal(200);
    expect(h.linesWith('PATH_INFO is not valid UTF-8')).to.have.length(1);
  });

  it('streams a large response in STDOUT records of at most 65535 bytes', async () => {
    const c = await connect();
    const r = await c.request({ params: cgiParams('GET', '/s?stream=1024') });
    const stdoutRecords = c.received.filter((x) => x.type === T.STDOUT);
    for (const rec of stdoutRecords) expect(rec.content.length).to.be.at.most(65535);
    const nl = r.body.indexOf('\n');
    expect(r.body.length - nl - 1).to.equal(1024 * 1024);
    expect(stdoutRecords.at(-1)!.content.length).to.equal(0);
  });

  it('FCGI_KEEP_CONN: several sequential requests on one connection, reusing the request id', async () => {
    const c = await connect();
    for (let i = 0; i < 5; i++) {
      const body = Buffer.from(`request ${i}`);
      const r = await c.request({ id: 1, params: cgiParams('POST', `/k${i}`, { CONTENT_LENGTH: String(body.length) }), stdin: body });
      expect(json(r).body.sha256).to.equal(sha256(body));
    }
    expect(c.connectionClosed).to.equal(false);
  });

  it('without FCGI_KEEP_CONN the connection is closed after the response', async () => {
    const c = await connect();
    const r = await c.request({ keepConn: false, params: cgiParams('GET', '/once') });
    expect(r.status).to.equal(200);
    await c.closed;
  });

  it('FCGI_GET_VALUES answers the names it knows; an unknown management type gets FCGI_UNKNOWN_TYPE', async () => {
    const c = await connect();
    const values = await c.getValues(['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS', 'FCGI_SOMETHING_ELSE']);
    expect(values.FCGI_MPXS_CONNS).to.equal('1');
    expect(Number(values.FCGI_MAX_CONNS)).to.be.greaterThan(0);
    expect(Number(values.FCGI_MAX_REQS)).to.be.greaterThan(0);
    expect(values).to.not.have.property('FCGI_SOMETHING_ELSE');
    await c.write(record(42, 0, Buffer.from('whatever')));
    const unknown = await c.nextManagement();
    expect(unknown.type).to.equal(T.UNKNOWN_TYPE);
    expect(unknown.content[0]).to.equal(42);
    const r = await c.request({ params: cgiParams('GET', '/still-here') });
    expect(r.status).to.equal(200);
  });

  it('an unknown role gets FCGI_UNKNOWN_ROLE; its remaining records are ignored and the connection goes on', async () => {
    const c = await connect();
    const res = c.response(5);
    await c.write(Buffer.concat([beginRecord(5, 9), streamRecords(T.PARAMS, 5, nameValues(cgiParams('GET', '/')))]));
    const r = await res;
    expect(r.protocolStatus).to.equal(3);
    expect(r.stdout.length).to.equal(0);
    await c.write(streamRecords(T.STDIN, 5, Buffer.alloc(0)));
    const ok = await c.request({ id: 6, params: cgiParams('GET', '/after') });
    expect(ok.status).to.equal(200);
  });
});

describe('FastCGI front: multiplexing, abort, errors after the head', () => {
  let h: FcgiHarness;
  const clients: FcgiClient[] = [];
  let slowGate = deferred();
  let slowStarted = deferred();
  let abortGate = deferred();
  let abortStarted = deferred();
  let abortClosed = deferred();

  const app: App = async (environ, startResponse) => {
    const path = environ.SCRIPT_NAME + environ.PATH_INFO;
    if (path === '/slow') {
      slowStarted.resolve();
      await slowGate.promise;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['slow\n'];
    }
    if (path === '/stream-forever') {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      const gen = (async function* () {
        yield 'first\n';
        abortStarted.resolve();
        for (;;) {
          await abortGate.promise;
          yield 'more\n';
        }
      })();
      const body: Body = Object.assign(gen, { close: () => abortClosed.resolve() });
      return body;
    }
    if (path === '/read-body') {
      abortStarted.resolve();
      try {
        await environ['tsgi.input'].read();
      } catch (err) {
        abortClosed.resolve();
        throw err;
      }
      startResponse('200 OK', []);
      return ['read\n'];
    }
    if (path === '/fail-midway') {
      startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '100']]);
      return (async function* () {
        yield 'partial';
        throw new Error('the app failed midway');
      })();
    }
    return echo(environ, startResponse);
  };

  before(async () => {
    h = await startFcgiHarness(app);
  });
  beforeEach(() => {
    slowGate = deferred();
    slowStarted = deferred();
    abortGate = deferred();
    abortStarted = deferred();
    abortClosed = deferred();
  });
  afterEach(() => {
    slowGate.resolve();
    abortGate.resolve();
    for (const c of clients.splice(0)) c.close();
  });
  after(() => h.server.close(1000));

  const connect = async (): Promise<FcgiClient> => {
    const c = await FcgiClient.connect({ port: h.port });
    clients.push(c);
    return c;
  };

  it('two requests interleaved on one connection: the slow one does not block the fast one', async () => {
    const c = await connect();
    let slowDone = false;
    const slowRes = c.response(1).then((r) => ((slowDone = true), r));
    const fastRes = c.response(2);
    // Interleave the records of both requests.
    await c.write(Buffer.concat([
      beginRecord(1),
      beginRecord(2),
      record(T.PARAMS, 1, nameValues(cgiParams('GET', '/slow'))),
      record(T.PARAMS, 2, nameValues(cgiParams('POST', '/fast', { CONTENT_LENGTH: '3' }))),
      record(T.PARAMS, 2),
      record(T.PARAMS, 1),
      record(T.STDIN, 2, Buffer.from('abc')),
      record(T.STDIN, 1),
      record(T.STDIN, 2),
    ]));
    await slowStarted.promise;
    const fast = await fastRes;
    expect(json(fast).body.sha256).to.equal(sha256(Buffer.from('abc')));
    expect(slowDone).to.equal(false);
    slowGate.resolve();
    const slow = await slowRes;
    expect(slow.body.toString()).to.equal('slow\n');
  });

  it("FCGI_ABORT_REQUEST: END_REQUEST comes back, the sink reads closed and the body's close() is called", async () => {
    const c = await connect();
    const res = c.response(1);
    await c.write(Buffer.concat([beginRecord(1), streamRecords(T.PARAMS, 1, nameValues(cgiParams('GET', '/stream-forever'))), record(T.STDIN, 1)]));
    await abortStarted.promise;
    await c.write(record(T.ABORT_REQUEST, 1));
    const r = await res;
    expect(r.protocolStatus).to.equal(0);
    abortGate.resolve();
    await abortClosed.promise;
    // The id is free again on the same connection.
    const next = await c.request({ id: 1, params: cgiParams('GET', '/after-abort') });
    expect(next.status).to.equal(200);
  });

  it('FCGI_ABORT_REQUEST while the app reads the body: the read fails instead of hanging', async () => {
    const c = await connect();
    const res = c.response(1);
    await c.write(Buffer.concat([beginRecord(1), streamRecords(T.PARAMS, 1, nameValues(cgiParams('POST', '/read-body', { CONTENT_LENGTH: '100' }))), record(T.STDIN, 1, Buffer.from('part'))]));
    await abortStarted.promise;
    await c.write(record(T.ABORT_REQUEST, 1));
    await res;
    await abortClosed.promise;
  });

  it('an error after the head closes the connection without END_REQUEST (the web server sees a truncated response)', async () => {
    const c = await connect();
    const res = c.response(1);
    await c.write(Buffer.concat([beginRecord(1), streamRecords(T.PARAMS, 1, nameValues(cgiParams('GET', '/fail-midway'))), record(T.STDIN, 1)]));
    let error: Error | null = null;
    await res.catch((err: Error) => (error = err));
    expect(error).to.be.instanceOf(Error);
    expect(c.received.some((r) => r.type === T.END_REQUEST)).to.equal(false);
    await c.closed;
    const c2 = await connect();
    expect((await c2.request({ params: cgiParams('GET', '/next') })).status).to.equal(200);
  });
});

describe('FastCGI front: authorizer and filter roles', () => {
  let h: FcgiHarness;
  let client: FcgiClient;
  const app: App = async (environ, startResponse) => {
    if (environ['tsgi.fcgi_role'] === 'AUTHORIZER') {
      if (environ.HTTP_AUTHORIZATION === 'Bearer good') {
        startResponse('200 OK', [['Variable-User', 'alice']]);
        return [];
      }
      startResponse('401 Unauthorized', [['Content-Type', 'text/plain'], ['WWW-Authenticate', 'Bearer']]);
      return ['no\n'];
    }
    if (environ['tsgi.fcgi_role'] === 'FILTER') {
      const stdin = await environ['tsgi.input'].read();
      const data = await (environ['tsgi.fcgi_data'] as { read(): Promise<Buffer> }).read();
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [`stdin=${stdin.toString()} data=${data.toString().toUpperCase()} last_mod=${environ.FCGI_DATA_LAST_MOD}`];
    }
    return echo(environ, startResponse);
  };
  before(async () => {
    h = await startFcgiHarness(app);
    client = await FcgiClient.connect({ port: h.port });
  });
  after(async () => {
    client.close();
    await h.server.close(1000);
  });

  it('authorizer: 200 with Variable-* headers authorizes, anything else denies', async () => {
    const yes = await client.request({ id: 1, role: ROLE.AUTHORIZER, params: cgiParams('GET', '/private', { HTTP_AUTHORIZATION: 'Bearer good' }) });
    expect(yes.status).to.equal(200);
    expect(yes.headers).to.deep.include(['variable-user', 'alice']);
    const no = await client.request({ id: 1, role: ROLE.AUTHORIZER, params: cgiParams('GET', '/private', { HTTP_AUTHORIZATION: 'Bearer bad' }) });
    expect(no.status).to.equal(401);
    expect(no.body.toString()).to.equal('no\n');
  });

  it('filter: the app reads FCGI_STDIN as tsgi.input and FCGI_DATA as tsgi.fcgi_data', async () => {
    const data = Buffer.from('file contents');
    const r = await client.request({
      id: 2,
      role: ROLE.FILTER,
      params: cgiParams('POST', '/file.txt', { CONTENT_LENGTH: '2', FCGI_DATA_LAST_MOD: '1700000000', FCGI_DATA_LENGTH: String(data.length) }),
      stdin: Buffer.from('in'),
      data,
    });
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.equal('stdin=in data=FILE CONTENTS last_mod=1700000000');
    expect(h.violations.map(String)).to.deep.equal([]);
  });
});

describe('FastCGI front: listening, mount point, graceful stop, cgi-fcgi', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('serves on a unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-fcgi-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'app.sock');
    const h = await startFcgiHarness(echo, { socketFile: path });
    cleanup.push(() => h.server.close(1000));
    expect(h.server.address).to.equal(path);
    const c = await FcgiClient.connect({ path });
    cleanup.push(() => c.close());
    const r = await c.request({ params: cgiParams('GET', '/over-unix') });
    expect(r.status).to.equal(200);
  });

  it('scriptName: the web server split is redone against the mount point; outside it is a 404', async () => {
    const h = await startFcgiHarness(echo, { scriptName: '/app' });
    cleanup.push(() => h.server.close(1000));
    const c = await FcgiClient.connect({ port: h.port });
    cleanup.push(() => c.close());
    const r = await c.request({ id: 1, params: cgiParams('GET', '/app/x/y') });
    expect(json(r).environ).to.include({ SCRIPT_NAME: '/app', PATH_INFO: '/x/y' });
    const out = await c.request({ id: 1, params: cgiParams('GET', '/application') });
    expect(out.status).to.equal(404);
  });

  it('graceful close: the running request finishes, idle keep-conn connections are closed', async () => {
    const gate = deferred();
    const started = deferred();
    const app: App = async (environ, startResponse) => {
      if (environ.SCRIPT_NAME === '/slow') {
        started.resolve();
        await gate.promise;
      }
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['done\n'];
    };
    const h = await startFcgiHarness(app);
    const busy = await FcgiClient.connect({ port: h.port });
    const idle = await FcgiClient.connect({ port: h.port });
    cleanup.push(() => busy.close(), () => idle.close());
    expect((await idle.request({ params: cgiParams('GET', '/quick') })).status).to.equal(200);
    const slow = busy.request({ params: cgiParams('GET', '/slow') });
    await started.promise;
    const closing = h.server.close(30_000);
    await idle.closed;
    gate.resolve();
    const r = await slow;
    expect(r.body.toString()).to.equal('done\n');
    await closing;
    await busy.closed;
  });

  it('cgi-fcgi (libfcgi, an independent client) gets the CGI response', async function () {
    const h = await startFcgiHarness(echo);
    cleanup.push(() => h.server.close(1000));
    const body = Buffer.from('posted by cgi-fcgi');
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      REQUEST_METHOD: 'POST',
      SCRIPT_NAME: '/cgi',
      PATH_INFO: '/fcgi',
      QUERY_STRING: 'q=1',
      CONTENT_LENGTH: String(body.length),
      CONTENT_TYPE: 'text/plain',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
    };
    const out = await new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve, reject) => {
      const child = spawn('cgi-fcgi', ['-bind', '-connect', `127.0.0.1:${h.port}`], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => chunks.push(d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout: Buffer.concat(chunks), stderr }));
      child.stdin.end(body);
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') this.skip(); // libfcgi-bin not installed
      throw err;
    });
    expect(out.code, out.stderr).to.equal(0);
    const text = out.stdout.toString('latin1');
    expect(text).to.match(/^Status: 200 OK\r\n/);
    const parsed = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    expect(parsed.environ).to.include({ REQUEST_METHOD: 'POST', SCRIPT_NAME: '/cgi', PATH_INFO: '/fcgi', QUERY_STRING: 'q=1' });
    expect(parsed.body).to.deep.equal({ length: body.length, sha256: sha256(body) });
  });
});
