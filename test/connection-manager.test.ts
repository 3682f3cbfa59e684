/**
 * The connection manager (adapters/connections) on the built-in server: HTTP/2 now gets the header,
 * keep-alive and request timeouts HTTP/1.1 has, HTTP/1.1 keeps them without Node's own timers, and a
 * graceful close closes idle keep-alive connections at once while a request in flight finishes.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { expect } from 'chai';
import { lint, type LintError } from '../app-api/lint.js';
import type { App } from '../app-api/types.js';
import type { HttpServerOptions } from '../adapters/http/server.js';
import { TestServers } from './support/servers.js';

const T = 300;

/** True when `p` settles within `ms` (a bound for a test that would otherwise hang, not a timing claim). */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

const closedOf = (s: net.Socket | http2.ClientHttp2Session): Promise<void> => new Promise((resolve) => s.once('close', () => resolve()));

/** Raw HTTP/1.1 keep-alive GET on `sock`; resolves with the response text once `marker` has arrived. */
function getOn(sock: net.Socket, path: string, marker: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (c: Buffer): void => {
      text += c.toString('latin1');
      if (text.includes(marker)) {
        sock.off('data', onData);
        resolve(text);
      }
    };
    sock.on('data', onData);
    sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

describe('connection manager: timeouts and drain on the built-in server', function () {
  this.timeout(20_000);
  const servers = new TestServers();
  const violations: LintError[] = [];
  let release = (): void => {};
  const app: App = lint(
    async (environ, startResponse) => {
      if (environ.PATH_INFO === '/slow') await new Promise<void>((resolve) => (release = resolve));
      if (environ.REQUEST_METHOD === 'POST') await environ['tsgi.input'].read(); // the whole body
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [`done ${String(environ.PATH_INFO)}\n`];
    },
    { onViolation: (e: LintError) => violations.push(e) },
  );
  const start = (opts: HttpServerOptions) => servers.start(app, { headerTimeout: 60_000, keepAliveTimeout: 60_000, idleTimeout: 60_000, ...opts });
  const clients: Array<net.Socket | http2.ClientHttp2Session> = [];
  const h2c = (port: number): http2.ClientHttp2Session => {
    const c = http2.connect(`http://127.0.0.1:${port}`);
    c.on('error', () => {});
    clients.push(c);
    return c;
  };
  const tcp = (port: number): net.Socket => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    clients.push(s);
    return s;
  };
  afterEach(async () => {
    release();
    for (const c of clients.splice(0)) c.destroy();
    await servers.closeAll();
    expect(violations.map(String)).to.deep.equal([]);
  });

  it('HTTP/2 (h2c): a session that opens no stream is closed after headerTimeout', async () => {
    const server = await start({ http2: true, headerTimeout: T });
    const client = h2c(server.port);
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    expect(await within(closedOf(client), 20 * T), 'session closed by the server').to.equal(true);
  });

  it('HTTP/2 (h2c): an idle session is sent GOAWAY after keepAliveTimeout, after serving its requests', async () => {
    const server = await start({ http2: true, keepAliveTimeout: T });
    const client = h2c(server.port);
    const goaway = new Promise<void>((resolve) => client.once('goaway', () => resolve()));
    const body = await new Promise<string>((resolve, reject) => {
      const req = client.request({ ':path': '/one' });
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (text += c));
      req.on('end', () => resolve(text));
      req.on('error', reject);
      req.end();
    });
    expect(body).to.equal('done /one\n');
    expect(await within(goaway, 20 * T), 'GOAWAY from the server').to.equal(true);
    expect(await within(closedOf(client), 20 * T), 'session closed').to.equal(true);
  });

  it('HTTP/2 (h2c): a request whose body does not arrive within requestTimeout is cut', async () => {
    const server = await start({ http2: true, requestTimeout: T });
    const client = h2c(server.port);
    const req = client.request({ ':path': '/upload', ':method': 'POST' });
    req.on('error', () => {});
    req.write('part of a body that never ends');
    const closed = new Promise<void>((resolve) => req.once('close', () => resolve()));
    expect(await within(closed, 20 * T), 'stream closed by the server').to.equal(true);
    expect(req.rstCode === http2.constants.NGHTTP2_NO_ERROR && req.readableEnded, 'not a complete response').to.equal(false);
  });

  it('HTTP/1.1: an idle keep-alive connection is closed after keepAliveTimeout (without Node\'s own timer)', async () => {
    const server = await start({ keepAliveTimeout: T });
    const sock = tcp(server.port);
    const closed = closedOf(sock);
    expect(await getOn(sock, '/a', 'done /a\n')).to.match(/^HTTP\/1\.1 200/);
    expect(await within(closed, 20 * T), 'connection closed by the server').to.equal(true);
  });

  it('HTTP/1.1: the next head on a keep-alive connection has its own headerTimeout', async () => {
    const server = await start({ headerTimeout: T });
    const sock = tcp(server.port);
    const closed = closedOf(sock);
    expect(await getOn(sock, '/a', 'done /a\n')).to.match(/^HTTP\/1\.1 200/);
    sock.write('GET /b HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // never the blank line
    expect(await within(closed, 20 * T), 'connection closed by the server').to.equal(true);
  });

  it('close(grace): an idle keep-alive connection closes at once; a request in flight finishes, with Connection: close', async () => {
    const server = await start({});
    const idle = tcp(server.port);
    const idleClosed = closedOf(idle);
    await getOn(idle, '/a', 'done /a\n');
    const busy = tcp(server.port);
    const busyText = getOn(busy, '/slow', 'done /slow\n');
    await new Promise((r) => setTimeout(r, 100)); // let /slow reach the app
    const closing = server.close(15_000);
    // The idle connection goes while /slow is still held: nothing waits for the grace period.
    expect(await within(idleClosed, 10_000), 'idle connection closed during the drain').to.equal(true);
    release();
    const text = await busyText;
    expect(text).to.match(/^HTTP\/1\.1 200/);
    expect(text.toLowerCase()).to.include('connection: close');
    await closing;
  });

  it('close(grace) on HTTP/2: GOAWAY at once, the stream in flight completes', async () => {
    const server = await start({ http2: true });
    const client = h2c(server.port);
    const goaway = new Promise<void>((resolve) => client.once('goaway', () => resolve()));
    const done = new Promise<string>((resolve, reject) => {
      const req = client.request({ ':path': '/slow' });
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (text += c));
      req.on('end', () => resolve(text));
      req.on('error', reject);
      req.end();
    });
    await new Promise((r) => setTimeout(r, 100));
    const closing = server.close(15_000);
    expect(await within(goaway, 10_000), 'GOAWAY before the stream ends').to.equal(true);
    release();
    expect(await done).to.equal('done /slow\n');
    await closing;
  });
});
