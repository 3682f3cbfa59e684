/**
 * The SCGI front end to end, over real sockets with the test SCGI client: requests and bodies, the mount
 * split, httpoxy, unix sockets, half-closing peers, and a graceful stop. Malformed requests are in
 * scgi-malformed.test.ts, the 100 MB upload in scgi-upload.test.ts, the fuzz in scgi-fuzz.test.ts.
 */
import { randomBytes, createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { TsgiError } from '../app-api/errors.js';
import type { App } from '../app-api/types.js';
import { app as echoEnviron } from '../examples/echo-environ/app.js';
import { scgiFront } from '../gateway/fronts/scgi.js';
import { encodeScgiHead } from '../adapters/scgi/parse.js';
import { defaultServerConfig } from '../gateway/config/options.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { header, nginxVars, parseResponse, scgiRequest, sendRaw } from './support/scgi-client.js';
import { startScgiHarness, type ScgiHarness } from './support/scgi-harness.js';

interface Echo {
  environ: Record<string, unknown>;
  body: { length: number; sha256: string };
}

function echoOf(body: Buffer): Echo {
  return JSON.parse(body.toString('utf8')) as Echo;
}

describe('SCGI front', () => {
  let h: ScgiHarness;
  before(async () => {
    h = await startScgiHarness(echoEnviron);
  });
  after(() => h.server.close(1000));
  afterEach(() => expect(h.violations.map((v) => v.message)).to.deep.equal([]));

  it('answers a GET with a CGI-style response: Status line, headers, blank line, body', async () => {
    const raw = await sendRaw(h.port, encodeScgiHead(0, nginxVars('GET', '/hello?x=1')));
    expect(raw.data.toString('latin1')).to.match(/^Status: 200 OK\r\nContent-Type: application\/json\r\nContent-Length: \d+\r\n\r\n\{/);
    const res = parseResponse(raw);
    const echo = echoOf(res.body);
    expect(echo.environ).to.include({ REQUEST_METHOD: 'GET', PATH_INFO: '/hello', QUERY_STRING: 'x=1', SCRIPT_NAME: '', SERVER_NAME: 'localhost', REMOTE_ADDR: '127.0.0.1', 'tsgi.url_scheme': 'http', 'tsgi.run_once': false });
    expect(Number(header(res, 'Content-Length'))).to.equal(res.body.length);
    expect(res.reset).to.equal(false);
  });

  for (const size of [0, 1, 1024 * 1024]) {
    it(`passes a ${size}-byte POST body through unchanged (sha256)`, async () => {
      const body = randomBytes(size);
      const res = await scgiRequest(h.port, { vars: nginxVars('POST', '/upload', { CONTENT_TYPE: 'application/octet-stream' }), body });
      expect(res.status).to.equal(200);
      const echo = echoOf(res.body);
      expect(echo.body).to.deep.equal({ length: size, sha256: createHash('sha256').update(body).digest('hex') });
      expect(echo.environ.CONTENT_LENGTH).to.equal(String(size));
      expect(echo.environ.REQUEST_METHOD).to.equal('POST');
    });
  }

  it('drops HTTP_PROXY (httpoxy) and keeps the other HTTP_ variables', async () => {
    const res = await scgiRequest(h.port, { vars: nginxVars('GET', '/', { HTTP_PROXY: 'http://evil.example:8080', HTTP_X_TEST: 'kept' }) });
    const env = echoOf(res.body).environ;
    expect(env).to.not.have.property('HTTP_PROXY');
    expect(env.HTTP_X_TEST).to.equal('kept');
  });

  it('reads SCRIPT_NAME and PATH_INFO as UTF-8 and other values byte for byte', async () => {
    const res = await scgiRequest(h.port, { vars: nginxVars('GET', '/caf%C3%A9', { PATH_INFO: Buffer.from('/café', 'utf8').toString('latin1'), HTTP_X_BYTES: 'caf\xe9' }) });
    const env = echoOf(res.body).environ;
    expect(env.PATH_INFO).to.equal('/café');
    expect(env.HTTP_X_BYTES).to.equal('caf\xe9');
  });

  it('answers 400 (not a guess) when PATH_INFO is not UTF-8, and keeps serving', async () => {
    const res = await scgiRequest(h.port, { vars: nginxVars('GET', '/x', { PATH_INFO: '/\xff\xfe' }) });
    expect(res.status).to.equal(400);
    expect(h.linesWith('TSGI_ERR_BAD_REQUEST').join('\n')).to.include('PATH_INFO is not valid UTF-8');
    expect((await scgiRequest(h.port)).status).to.equal(200);
  });

  it('answers a peer that half-closes after its request', async () => {
    const res = await scgiRequest(h.port, { vars: nginxVars('POST', '/'), body: Buffer.from('abc'), halfClose: true });
    expect(res.status).to.equal(200);
    expect(echoOf(res.body).body.length).to.equal(3);
  });

  it('passes the app status and headers through (echo-environ ?status= and ?header=)', async () => {
    const res = await scgiRequest(h.port, { vars: nginxVars('GET', '/?status=201&header=X-A:b') });
    expect(res.status).to.equal(201);
    expect(header(res, 'X-A')).to.equal('b');
  });

  it('streams a body of unknown length and closes the connection to end it', async () => {
    const res = await scgiRequest(h.port, { vars: nginxVars('GET', '/?stream=256') });
    expect(res.status).to.equal(200);
    expect(header(res, 'Content-Length')).to.equal(undefined);
    expect(header(res, 'Transfer-Encoding')).to.equal(undefined);
    const json = res.body.indexOf('\n');
    expect(res.body.length - json - 1).to.equal(256 * 1024);
  });

  it('sends headers only for HEAD', async () => {
    const res = await scgiRequest(h.port, { vars: nginxVars('HEAD', '/') });
    expect(res.status).to.equal(200);
    expect(res.body.length).to.equal(0);
  });
});

describe('SCGI front: mount point', () => {
  let h: ScgiHarness;
  before(async () => {
    h = await startScgiHarness(echoEnviron, { scriptName: '/app' });
  });
  after(() => h.server.close(1000));

  it('re-splits the web server SCRIPT_NAME + PATH_INFO at the mount point', async () => {
    // nginx with scgi_param SCRIPT_NAME $uri and no PATH_INFO, as many configs do.
    const res = await scgiRequest(h.port, { vars: nginxVars('GET', '/app/x/y', { SCRIPT_NAME: '/app/x/y', PATH_INFO: '' }) });
    const env = echoOf(res.body).environ;
    expect(env).to.include({ SCRIPT_NAME: '/app', PATH_INFO: '/x/y' });
  });

  it('answers 404 for a path outside the mount point', async () => {
    const res = await scgiRequest(h.port, { vars: nginxVars('GET', '/application') });
    expect(res.status).to.equal(404);
  });
});

describe('SCGI front: protocol = scgi from the config, no scriptName', () => {
  it("keeps the web server's SCRIPT_NAME / PATH_INFO split (the config's default '' is not a mount at /)", async () => {
    const log = new ErrorLog(new MemoryLog());
    const front = await scgiFront.start(new InlineDispatcher(echoEnviron, { log }), { ...defaultServerConfig(), socketHost: '127.0.0.1', socketPort: 0 }, log);
    try {
      const port = Number(/:(\d+)$/.exec(front.url)?.[1]);
      const res = await scgiRequest(port, { vars: nginxVars('GET', '/app/q', { SCRIPT_NAME: '/app', PATH_INFO: '/q' }) });
      expect(echoOf(res.body).environ).to.include({ SCRIPT_NAME: '/app', PATH_INFO: '/q' });
    } finally {
      await front.close(1000);
    }
  });
});

describe('SCGI front: unix socket and graceful stop', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsgi-scgi-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves over a unix socket and replaces a stale socket file left by a killed server', async () => {
    const path = join(dir, 'scgi.sock');
    // A server killed with SIGKILL leaves its socket file behind (a clean close() would remove it).
    const killed = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(killed.signal).to.equal('SIGKILL');
    expect(existsSync(path)).to.equal(true);
    const h = await startScgiHarness(echoEnviron, { socketFile: path });
    try {
      const res = await scgiRequest(path);
      expect(res.status).to.equal(200);
      expect(echoOf(res.body).environ.REQUEST_METHOD).to.equal('GET');
    } finally {
      await h.server.close(1000);
    }
  });

  it('refuses a socket file that a live server answers on', async () => {
    const path = join(dir, 'live.sock');
    const live = await startScgiHarness(echoEnviron, { socketFile: path });
    try {
      const err = await startScgiHarness(echoEnviron, { socketFile: path }).then(() => null, (e: Error) => e);
      expect(err).to.be.instanceOf(Error);
      expect((err as TsgiError).code).to.equal('TSGI_ERR_CONFIG');
      expect((await scgiRequest(path)).status).to.equal(200);
    } finally {
      await live.server.close(1000);
    }
  });

  it('lets a request in flight finish on close(graceMs), then stops listening', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const slow: App = async (_env, startResponse) => {
      started();
      await gate;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['done\n'];
    };
    const h = await startScgiHarness(slow);
    const pending = scgiRequest(h.port);
    await running;
    const closed = h.server.close(10_000);
    release();
    const res = await pending;
    await closed;
    expect(res.status).to.equal(200);
    expect(res.body.toString()).to.equal('done\n');
    const refused = await sendRaw(h.port, encodeScgiHead(0, nginxVars('GET', '/'))).catch((err: Error) => err);
    expect(refused).to.satisfy((r: unknown) => r instanceof Error || (r as { data: Buffer }).data.length === 0);
  });
});
