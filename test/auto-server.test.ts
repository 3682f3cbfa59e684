/**
 * protocol=auto end to end: one port answering HTTP/1.1 (node http, keep-alive), h2c, SCGI and FastCGI with
 * the same app; unrecognised bytes closed and logged; a slow first byte holding nobody up.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { expect } from 'chai';
import { lint, type LintError } from '../app-api/lint.js';
import type { App } from '../app-api/types.js';
import { startAutoServer, type AutoServer, type AutoServerOptions } from '../adapters/auto/server.js';
import { app as echoEnviron } from '../examples/echo-environ/app.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { cgiParams, FcgiClient } from './support/fcgi-client.js';
import { nginxVars, scgiRequest, sendRaw } from './support/scgi-client.js';

interface Echo {
  environ: Record<string, unknown>;
  body: { length: number; sha256: string };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Harness {
  server: AutoServer;
  memory: MemoryLog;
  violations: LintError[];
}

async function start(opts: AutoServerOptions = {}, inner: App = echoEnviron): Promise<Harness> {
  const memory = new MemoryLog();
  const log = new ErrorLog(memory);
  const violations: LintError[] = [];
  const app = lint(inner, { onViolation: (e) => violations.push(e) });
  const server = await startAutoServer(new InlineDispatcher(app, { log }), { port: 0, ...opts, log });
  return { server, memory, violations };
}

/** Two requests over one keep-alive HTTP/1.1 connection. */
async function httpTwice(port: number, body: Buffer): Promise<Array<{ status: number; echo: Echo; socketReused: boolean }>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const out: Array<{ status: number; echo: Echo; socketReused: boolean }> = [];
  const parse = (status: number | undefined, text: string): Echo => (status === 200 ? (JSON.parse(text) as Echo) : { environ: { text }, body: { length: -1, sha256: '' } });
  try {
    for (let i = 0; i < 2; i++) {
      out.push(
        await new Promise((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port, path: `/h1/${i}?q=${i}`, method: 'POST', agent, headers: { 'content-length': String(body.length) } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, echo: parse(res.statusCode, Buffer.concat(chunks).toString()), socketReused: req.reusedSocket }));
          });
          req.on('error', reject);
          req.end(body);
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  return out;
}

describe('protocol=auto: one port, every protocol', function () {
  this.timeout(30_000);
  let h: Harness;
  before(async () => {
    h = await start({ http: { http2: true }, detectTimeout: 300 });
  });
  after(() => h.server.close(1000));
  afterEach(() => expect(h.violations.map((v) => v.message)).to.deep.equal([]));

  it('HTTP/1.1 with keep-alive: two requests on one connection, body intact', async () => {
    const body = randomBytes(200_000);
    const [a, b] = await httpTwice(h.server.port, body);
    expect(a.status).to.equal(200);
    expect(a.echo.environ).to.include({ REQUEST_METHOD: 'POST', PATH_INFO: '/h1/0', QUERY_STRING: 'q=0', SERVER_PROTOCOL: 'HTTP/1.1' });
    expect(a.echo.body).to.deep.equal({ length: body.length, sha256: sha(body) });
    expect(b.echo.environ.PATH_INFO).to.equal('/h1/1');
    expect(b.socketReused).to.equal(true);
  });

  it('HTTP/2 prior knowledge (h2c) when http2 is on', async () => {
    const client = http2.connect(`http://127.0.0.1:${h.server.port}`);
    try {
      const echo = await new Promise<Echo>((resolve, reject) => {
        client.on('error', reject);
        const req = client.request({ ':path': '/h2?x=1' });
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as Echo));
        req.on('error', reject);
      });
      expect(echo.environ).to.include({ PATH_INFO: '/h2', QUERY_STRING: 'x=1', SERVER_PROTOCOL: 'HTTP/2' });
    } finally {
      client.close();
    }
  });

  it('SCGI with a body', async () => {
    const body = randomBytes(100_000);
    const res = await scgiRequest(h.server.port, { vars: nginxVars('POST', '/scgi?s=1'), body });
    expect(res.status).to.equal(200);
    const echo = JSON.parse(res.body.toString()) as Echo;
    expect(echo.environ).to.include({ PATH_INFO: '/scgi', QUERY_STRING: 's=1' });
    expect(echo.body).to.deep.equal({ length: body.length, sha256: sha(body) });
  });

  it('FastCGI: two requests on one kept connection, and a GET_VALUES management record first', async () => {
    const client = await FcgiClient.connect({ port: h.server.port });
    try {
      const values = await client.getValues(['FCGI_MPXS_CONNS']);
      expect(values).to.have.property('FCGI_MPXS_CONNS');
      const body = randomBytes(70_000);
      const first = await client.request({ id: 1, params: cgiParams('POST', '/fcgi?f=1', { CONTENT_LENGTH: String(body.length) }), stdin: body });
      expect(first.status).to.equal(200);
      const echo = JSON.parse(first.body.toString()) as Echo;
      expect(echo.environ).to.include({ QUERY_STRING: 'f=1', REQUEST_METHOD: 'POST' });
      expect(echo.body).to.deep.equal({ length: body.length, sha256: sha(body) });
      const second = await client.request({ id: 2, params: cgiParams('GET', '/fcgi2') });
      expect(second.status).to.equal(200);
    } finally {
      client.socket.destroy();
    }
  });

  it('unrecognised first bytes: closed, one TSGI_ERR_PROTOCOL line naming the bytes and the peer', async () => {
    h.memory.lines.length = 0;
    const raw = await sendRaw(h.server.port, Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'));
    expect(raw.data.length).to.equal(0);
    const lines = h.memory.text.split('\n').filter((l) => l.includes('TSGI_ERR_PROTOCOL'));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/unrecognised first bytes "SSH-2\.0-OpenSSH_" .* from 127\.0\.0\.1:\d+; connection closed/);
    expect((await scgiRequest(h.server.port)).status).to.equal(200);
  });

  it('a TLS handshake is refused with a line naming the fix', async () => {
    h.memory.lines.length = 0;
    const raw = await sendRaw(h.server.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
    expect(raw.data.length).to.equal(0);
    expect(h.memory.text).to.match(/TLS handshake .* use protocol=http with sslKeyFile.*TSGI_ERR_PROTOCOL/);
  });

  it('a client that connects and waits holds nobody up, and is closed after detectTimeout', async () => {
    const silent = net.connect({ port: h.server.port, host: '127.0.0.1' });
    silent.on('error', () => {});
    const silentClosed = new Promise<void>((r) => silent.on('close', () => r()));
    const partial = net.connect({ port: h.server.port, host: '127.0.0.1' });
    partial.on('error', () => {});
    const partialClosed = new Promise<void>((r) => partial.on('close', () => r()));
    partial.write('123'); // digits: SCGI or nothing yet
    h.memory.lines.length = 0;
    // Served while both are pending.
    expect((await scgiRequest(h.server.port)).status).to.equal(200);
    const [a] = await httpTwice(h.server.port, Buffer.from('x'));
    expect(a.status).to.equal(200);
    await silentClosed;
    await partialClosed;
    const lines = h.memory.text.split('\n').filter((l) => l.includes('TSGI_ERR_PROTOCOL'));
    expect(lines, 'only the one that sent something is logged').to.have.length(1);
    expect(lines[0]).to.include('did not name a protocol within 300 ms');
  });
});

describe('protocol=auto: options', function () {
  this.timeout(30_000);

  it('without http2, h2c prior knowledge is refused with a line naming the option', async () => {
    const h = await start();
    try {
      const raw = await sendRaw(h.server.port, Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
      expect(raw.data.length).to.equal(0);
      expect(h.memory.text).to.match(/h2c.*set http2 = true.*TSGI_ERR_PROTOCOL/);
      const [a] = await httpTwice(h.server.port, Buffer.from('ok'));
      expect(a.status).to.equal(200);
    } finally {
      await h.server.close(1000);
    }
  });

  it('applies the mount point to every protocol', async () => {
    const h = await start({ scriptName: '/app' });
    try {
      const res = await scgiRequest(h.server.port, { vars: nginxVars('GET', '/app/s', { SCRIPT_NAME: '', PATH_INFO: '/app/s' }) });
      expect(JSON.parse(res.body.toString()).environ).to.include({ SCRIPT_NAME: '/app', PATH_INFO: '/s' });
      const [a] = await httpTwice(h.server.port, Buffer.from('x'));
      expect(a.status, '/h1/0 is outside /app').to.equal(404);
    } finally {
      await h.server.close(1000);
    }
  });

  it('refuses TLS settings at start, naming protocol=http', async () => {
    const err = await start({ http: { sslKeyFile: '/nonexistent', sslCertificateFile: '/nonexistent' } }).then(() => null, (e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error & { code?: string }).code).to.equal('TSGI_ERR_CONFIG');
    expect((err as Error).message).to.include('protocol=http');
  });

  it('close(graceMs) lets an SCGI request in flight finish and stops the listener', async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const h = await start({}, async (environ, startResponse) => {
      started();
      const body = await environ['tsgi.input'].read();
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [body];
    });
    const socket = net.connect({ port: h.server.port, host: '127.0.0.1' });
    const got: Buffer[] = [];
    socket.on('data', (c: Buffer) => got.push(c));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    // Head and part of the body: the request is in flight when close() starts.
    const { encodeScgiHead } = await import('../adapters/scgi/parse.js');
    socket.write(Buffer.concat([encodeScgiHead(4, nginxVars('POST', '/late')), Buffer.from('ab')]));
    await running;
    const stopping = h.server.close(10_000);
    socket.end('cd');
    await closed;
    await stopping;
    expect(Buffer.concat(got).toString('latin1')).to.match(/^Status: 200 OK\r\n[^]*\r\n\r\nabcd$/);
    const refused = await sendRaw(h.server.port, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(refused.data.length).to.equal(0);
  });
});
