/**
 * The built-in server (adapters/http): transports (keep-alive, HTTPS, HTTP/2 + ALPN fallback, h2c, unix
 * socket), reverse DNS, the header timeout, middie middleware, and what the client sees when the app fails.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { expect } from 'chai';
import type { App, Body, Chunk } from '../app-api/types.js';
import { ReverseDns } from '../adapters/http/reverse-dns.js';
import { app as echoEnviron } from '../examples/echo-environ/app.js';
import { makeTempCert, type TempCert } from './support/certs.js';
import { startDnsStub, type DnsStub } from './support/dns-stub.js';
import { sendRequest, type RawResponse } from './support/http-client.js';
import { TestServers } from './support/servers.js';

type Echo = { environ: Record<string, unknown>; body: { length: number; sha256: string } };
const echoOf = (res: RawResponse | Buffer): Echo => JSON.parse((Buffer.isBuffer(res) ? res : res.body).toString().split('\n')[0]);

/** Resolves once `cond()` holds; rejects after `ms` (a bound, not an assertion on time). */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One HTTP/2 request; resolves with status, headers and body. */
function h2request(client: http2.ClientHttp2Session, path: string, body?: Buffer): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':path': path, ':method': body === undefined ? 'GET' : 'POST' });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (headers = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    req.end(body);
  });
}

describe('built-in HTTP server', function () {
  this.timeout(20_000);
  const servers = new TestServers();
  afterEach(() => servers.closeAll());

  it('keeps a connection alive: two requests, one socket', async () => {
    const server = await servers.start(echoEnviron);
    let connections = 0;
    server.fastify.server.on('connection', () => connections++);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = (): Promise<Echo> =>
        new Promise((resolve, reject) => {
          http.get({ host: '127.0.0.1', port: server.port, path: '/', agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve(echoOf(Buffer.concat(chunks))));
          }).on('error', reject);
        });
      const a = await get();
      const b = await get();
      expect(connections).to.equal(1);
      expect(a.environ.REMOTE_PORT).to.equal(b.environ.REMOTE_PORT);
    } finally {
      agent.destroy();
    }
  });

  describe('TLS', () => {
    let cert: TempCert;
    before(() => {
      cert = makeTempCert();
    });
    after(() => cert?.remove());

    it('HTTPS with a self-signed certificate: HTTPS=on, url_scheme https', async () => {
      const server = await servers.start(echoEnviron, { sslKeyFile: cert.keyFile, sslCertificateFile: cert.certFile });
      expect(server.url).to.match(/^https:/);
      const res = await sendRequest({ port: server.port, tls: true, ca: cert.cert }, { method: 'GET', path: '/s' });
      expect(res.status).to.equal(200);
      expect(echoOf(res).environ).to.include({ HTTPS: 'on', 'tsgi.url_scheme': 'https', SERVER_PROTOCOL: 'HTTP/1.1', PATH_INFO: '/s' });
    });

    it('HTTP/2 over TLS (ALPN h2), and HTTP/1.1 fallback on the same port', async () => {
      const server = await servers.start(echoEnviron, { sslKeyFile: cert.keyFile, sslCertificateFile: cert.certFile, http2: true });
      const client = http2.connect(`https://127.0.0.1:${server.port}`, { ca: cert.cert, servername: 'localhost' });
      try {
        const res = await h2request(client, '/h2/x?y=%20');
        expect(res.status).to.equal(200);
        expect(client.alpnProtocol).to.equal('h2');
        expect(echoOf(res.body).environ).to.include({ SERVER_PROTOCOL: 'HTTP/2', HTTPS: 'on', PATH_INFO: '/h2/x', QUERY_STRING: 'y=%20', REMOTE_ADDR: '127.0.0.1' });
        expect(echoOf(res.body).environ.SERVER_NAME).to.be.a('string').and.not.equal('');
        const upload = await h2request(client, '/up', Buffer.alloc(100_000, 7));
        expect(echoOf(upload.body).body.length).to.equal(100_000);
      } finally {
        client.close();
      }
      const h1 = await sendRequest({ port: server.port, tls: true, ca: cert.cert }, { method: 'GET', path: '/h1' });
      expect(h1.status).to.equal(200);
      expect(echoOf(h1).environ).to.include({ SERVER_PROTOCOL: 'HTTP/1.1', HTTPS: 'on', PATH_INFO: '/h1' });
    });
  });

  it('cleartext HTTP/2 (h2c) with prior knowledge', async () => {
    const server = await servers.start(echoEnviron, { http2: true });
    const client = http2.connect(`http://127.0.0.1:${server.port}`);
    try {
      const res = await h2request(client, '/c?q');
      expect(res.status).to.equal(200);
      expect(echoOf(res.body).environ).to.include({ SERVER_PROTOCOL: 'HTTP/2', 'tsgi.url_scheme': 'http', PATH_INFO: '/c', QUERY_STRING: 'q' });
    } finally {
      client.close();
    }
  });

  it('listens on a unix socket (socketFile)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-sock-'));
    try {
      const socketPath = join(dir, 'tsgi.sock');
      const server = await servers.start(echoEnviron, { socketFile: socketPath });
      expect(server.url).to.equal(socketPath);
      const res = await sendRequest({ socketPath }, { method: 'GET', path: '/unix?x=1' });
      expect(res.status).to.equal(200);
      expect(echoOf(res).environ).to.include({ PATH_INFO: '/unix', QUERY_STRING: 'x=1' });
    } finally {
      await servers.closeAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('reverseDNS', () => {
    let stubs: DnsStub[] = [];
    afterEach(async () => {
      await Promise.all(stubs.map((s) => s.close()));
      stubs = [];
    });

    it('sets REMOTE_HOST for 127.0.0.1 to what the system resolver answers', async () => {
      const expected = await new Resolver({ timeout: 1000, tries: 1 }).reverse('127.0.0.1').then((n) => n[0], () => undefined);
      const server = await servers.start(echoEnviron, { reverseDNS: true });
      const env = echoOf(await sendRequest({ port: server.port }, { method: 'GET', path: '/' })).environ;
      if (expected !== undefined) expect(env.REMOTE_HOST).to.equal(expected);
      else expect(env.REMOTE_HOST === undefined || typeof env.REMOTE_HOST === 'string').to.equal(true);
      expect(env.REMOTE_ADDR).to.equal('127.0.0.1');
    });

    it('sets REMOTE_HOST from the PTR answer (loopback DNS stub, client 127.0.0.2)', async () => {
      const stub = await startDnsStub('client.example');
      stubs.push(stub);
      const server = await servers.start(echoEnviron, { reverseDNS: new ReverseDns(2000, 60_000, 100, [stub.server]) });
      const env = echoOf(await sendRequest({ port: server.port, localAddress: '127.0.0.2' }, { method: 'GET', path: '/' })).environ;
      expect(env.REMOTE_ADDR).to.equal('127.0.0.2');
      expect(env.REMOTE_HOST).to.equal('client.example');
    });

    it('an unreachable resolver does not hang the request: it completes without REMOTE_HOST', async () => {
      const silent = await startDnsStub(null);
      stubs.push(silent);
      const server = await servers.start(echoEnviron, { reverseDNS: new ReverseDns(200, 60_000, 100, [silent.server]) });
      const res = await sendRequest({ port: server.port, localAddress: '127.0.0.2' }, { method: 'GET', path: '/' }, 10_000);
      expect(res.status).to.equal(200);
      expect(silent.queries).to.be.greaterThan(0);
      expect(echoOf(res).environ).to.not.have.property('REMOTE_HOST');
    });
  });

  it('closes a connection whose request head does not complete within headerTimeout', async () => {
    const server = await servers.start(echoEnviron, { headerTimeout: 500 });
    const sock = net.connect(server.port, '127.0.0.1');
    const received: Buffer[] = [];
    sock.on('data', (c) => received.push(c));
    sock.on('error', () => {});
    const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
    sock.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: 1\r\n');
    await closed; // bounded by the test timeout: a server without a header deadline would keep it open
    const text = Buffer.concat(received).toString();
    expect(text === '' || text.startsWith('HTTP/1.1 408'), text).to.equal(true);
    // ... and the server still serves complete requests.
    expect((await sendRequest({ port: server.port }, { method: 'GET', path: '/' })).status).to.equal(200);
  });

  it('closes a connection that moves no byte for idleTimeout (an app that never finishes its body)', async () => {
    let release = (): void => {};
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      if (environ.PATH_INFO === '/ok') return ['ok'];
      return (async function* () {
        yield 'first chunk\n';
        await stuck;
      })();
    };
    const server = await servers.start(app, { idleTimeout: 500 });
    try {
      const sock = net.connect(server.port, '127.0.0.1');
      const received: Buffer[] = [];
      sock.on('data', (c) => received.push(c));
      sock.on('error', () => {});
      const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
      sock.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await closed; // bounded by the test timeout
      const text = Buffer.concat(received).toString();
      expect(text).to.match(/^HTTP\/1\.1 200/);
      expect(text).to.include('first chunk');
      expect(text).to.not.match(/\r\n0\r\n\r\n$/); // never the chunked terminator: the body was cut
      expect((await sendRequest({ port: server.port }, { method: 'GET', path: '/ok' })).status).to.equal(200);
    } finally {
      release();
    }
  });

  it('runs @fastify/middie middleware before the app', async () => {
    let appCalls = 0;
    const app: App = (environ, startResponse) => {
      appCalls++;
      startResponse('200 OK', [['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
      return [`app saw ${environ.PATH_INFO}`];
    };
    const server = await servers.start(app, {
      middleware: [
        (req, res, next) => {
          if (req.url === '/blocked') {
            res.statusCode = 403;
            res.end('blocked by middleware');
            return;
          }
          res.setHeader('X-Middleware', 'ran');
          next();
        },
      ],
    });
    const blocked = await sendRequest({ port: server.port }, { method: 'GET', path: '/blocked' });
    expect([blocked.status, blocked.body.toString()]).to.deep.equal([403, 'blocked by middleware']);
    expect(appCalls).to.equal(0);
    const ok = await sendRequest({ port: server.port }, { method: 'GET', path: '/open' });
    expect(ok.status).to.equal(200);
    expect(ok.body.toString()).to.equal('app saw /open');
    expect(ok.headers['x-middleware']).to.equal('ran');
    expect(ok.headers['set-cookie']).to.equal('a=1\nb=2'); // headers set by middleware must not collapse the app's repeats
    expect(appCalls).to.equal(1);
  });

  it('an app error is a 500 and the next request on the same server is fine', async () => {
    const app: App = (environ, startResponse) => {
      if (environ.PATH_INFO === '/boom') throw new Error('app exploded');
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['fine'];
    };
    const server = await servers.start(app);
    const boom = await sendRequest({ port: server.port }, { method: 'GET', path: '/boom' });
    expect(boom.status).to.equal(500);
    expect(boom.body.toString()).to.not.include('exploded');
    expect(servers.logs.text).to.include('app exploded');
    const ok = await sendRequest({ port: server.port }, { method: 'GET', path: '/' });
    expect([ok.status, ok.body.toString()]).to.deep.equal([200, 'fine']);
  });

  it('an error after the headers aborts the connection: the client never sees a clean end', async () => {
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      if (environ.PATH_INFO === '/ok') return ['ok'];
      return (async function* () {
        yield 'first part\n';
        await new Promise((r) => setImmediate(r));
        throw new Error('failed mid-body');
      })();
    };
    const server = await servers.start(app);
    let outcome: string;
    try {
      await sendRequest({ port: server.port }, { method: 'GET', path: '/' });
      outcome = 'complete';
    } catch (err) {
      outcome = `aborted: ${(err as Error).message}`;
    }
    expect(outcome).to.match(/^aborted/);
    // The server keeps serving.
    const ok = await sendRequest({ port: server.port }, { method: 'GET', path: '/ok' });
    expect([ok.status, ok.body.toString()]).to.deep.equal([200, 'ok']);
  });

  it('a client abort mid-response: the body\'s close() runs exactly once and the iterator\'s finally runs', async () => {
    let closes = 0;
    let finallyRan = 0;
    let produced = 0;
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      const chunk = Buffer.alloc(16 * 1024, 1);
      const body: Body = {
        async *[Symbol.asyncIterator](): AsyncIterator<Chunk> {
          try {
            for (let i = 0; i < 100_000; i++) {
              produced++;
              yield chunk;
              await new Promise((r) => setImmediate(r));
            }
          } finally {
            finallyRan++;
          }
        },
        close() {
          closes++;
        },
      };
      return body;
    };
    const server = await servers.start(app);
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, path: '/', agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) => {
        if (!req.destroyed) reject(err);
      });
    });
    await until(() => closes > 0 && finallyRan > 0);
    const producedAtClose = produced;
    // Give a misbehaving gateway the chance to call close() twice or keep iterating.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(closes).to.equal(1);
    expect(finallyRan).to.equal(1);
    expect(produced).to.equal(producedAtClose);
    expect(produced).to.be.lessThan(100_000);
  });
});
