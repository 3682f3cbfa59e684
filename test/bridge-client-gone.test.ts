/**
 * `tsgi.client_gone` through the bridge adapters that run a tsgi app inside someone else's server:
 *
 * - toNode(app) as the listener of a node:http server;
 * - the fastify plugin (tsgiFastify) mounting the app at a prefix in a fastify server;
 * - toFetch(app) served by @hono/node-server (which aborts the Request's signal when the client
 *   disconnects), and toFetch(app) called directly with a Request whose AbortController the caller aborts.
 *
 * The app streams a line every 10 ms until its signal aborts (bounded: 3000 lines), awaiting the signal
 * between lines; the client leaves after the first line. Each case checks that the signal aborted with a
 * TSGI_ERR_CLIENT_GONE reason and that the app stopped (its generator's finally ran, before the bound); and
 * that a request the client read to the end, then closed, leaves its signal alone.
 */
import http from 'node:http';
import net from 'node:net';
import { expect } from 'chai';
import Fastify, { type FastifyInstance } from 'fastify';
import { serve } from '@hono/node-server';
import { isTsgiError } from '../app-api/errors.js';
import { lint } from '../app-api/lint.js';
import type { App } from '../app-api/types.js';
import { toFetch } from '../adapters/fetch/to-fetch.js';
import { tsgiFastify } from '../adapters/node/fastify-plugin.js';
import { toNode } from '../adapters/node/to-node.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';

/** The adapters' error log, kept in memory and printed when a test fails. */
const memory = new MemoryLog();
const log = new ErrorLog(memory);

/** The most lines the app writes: far more than a test waits for, so stopping early is the app seeing the signal. */
const MAX_LINES = 3000;

interface Seen {
  /** The app's `tsgi.client_gone` (undefined when the adapter provides none). */
  signal: AbortSignal | undefined;
  lines: number;
  finallyRan: boolean;
  /** Resolves when the app's body generator has finished (its finally ran). */
  stopped: Promise<void>;
}

/** Resolves when `signal` aborts; never when there is none. */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * A linted app that streams `?lines=N` lines (default: until its signal aborts, at most MAX_LINES), 10 ms
 * apart, waiting on the signal between lines; `seen` is what one request's app saw.
 */
function streamingApp(): { app: App; seen: () => Seen } {
  let last: Seen | undefined;
  const app: App = (environ, startResponse) => {
    const signal = environ['tsgi.client_gone'];
    const n = /(?:^|&)lines=(\d+)/.exec(environ.QUERY_STRING ?? '');
    const limit = n === null ? MAX_LINES : Number(n[1]);
    let stop!: () => void;
    const seen: Seen = { signal, lines: 0, finallyRan: false, stopped: new Promise((r) => (stop = r)) };
    last = seen;
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return (async function* () {
      try {
        while (seen.lines < limit && signal?.aborted !== true) {
          seen.lines++;
          yield `line ${seen.lines}\n`;
          await Promise.race([new Promise((r) => setTimeout(r, 10)), aborted(signal)]);
        }
      } finally {
        seen.finallyRan = true;
        stop();
      }
    })();
  };
  return { app: lint(app), seen: () => last! };
}

/** Send a GET on a raw socket, wait for the first body bytes, then destroy the socket (the client leaves). */
async function leaveMidResponse(port: number, path: string): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('line 1\n')) resolve();
    });
    socket.on('close', () => reject(new Error(`the connection closed before the first line: ${JSON.stringify(text.slice(0, 300))}`)));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  });
  socket.destroy();
}

/**
 * Send a GET with `Connection: close`, read the response to its end, and resolve once the server's side of the
 * connection has closed too (`closed` is the server socket's close), with the text read.
 */
async function readToEnd(port: number, path: string, closed: () => Promise<void>): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  const serverClosed = closed();
  let text = '';
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('end', () => resolve());
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  });
  socket.destroy();
  await serverClosed;
  return text;
}

/** A promise of the next accepted connection's close, on `server`. */
function nextConnectionClosed(server: net.Server): () => Promise<void> {
  return () => new Promise((resolve) => server.once('connection', (s: net.Socket) => s.once('close', () => resolve())));
}

/** The checks of a client that left: an aborted signal with a TSGI_ERR_CLIENT_GONE reason, and the app stopped. */
async function expectGone(seen: Seen): Promise<void> {
  await seen.stopped;
  expect(seen.signal, 'tsgi.client_gone').to.be.instanceOf(AbortSignal);
  expect(seen.signal!.aborted).to.equal(true);
  expect(isTsgiError(seen.signal!.reason, 'TSGI_ERR_CLIENT_GONE'), String(seen.signal!.reason)).to.equal(true);
  expect(seen.finallyRan).to.equal(true);
  expect(seen.lines).to.be.below(MAX_LINES);
}

/** The checks of a request read to the end: the signal was there, and never aborted. */
function expectNotGone(seen: Seen, text: string, lines: number): void {
  expect(text).to.match(/^HTTP\/1\.1 200 /);
  expect(text).to.include(`line ${lines}\n`);
  expect(seen.finallyRan).to.equal(true);
  expect(seen.signal, 'tsgi.client_gone').to.be.instanceOf(AbortSignal);
  expect(seen.signal!.aborted).to.equal(false);
}

/** The two cases every server-hosted adapter must pass: a client leaving mid-response, and one reading to the end. */
function clientGoneCases(at: { port: () => number; server: () => http.Server | net.Server; seen: () => Seen; path: string }): void {
  it('a client that leaves mid-response aborts the signal (TSGI_ERR_CLIENT_GONE) and the app stops', async () => {
    await leaveMidResponse(at.port(), at.path);
    await expectGone(at.seen());
  });

  it('a response read to the end, then the connection closed, never aborts the signal', async () => {
    const text = await readToEnd(at.port(), `${at.path}?lines=3`, nextConnectionClosed(at.server() as http.Server));
    expectNotGone(at.seen(), text, 3);
  });
}

describe('tsgi.client_gone through the bridge adapters', function () {
  this.timeout(30_000);
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(memory.text);
  });

  describe('toNode in a node:http server', () => {
    const { app, seen } = streamingApp();
    let server: http.Server;
    let port: number;
    before(async () => {
      server = http.createServer(toNode(app, { log }));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as net.AddressInfo).port;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    clientGoneCases({ port: () => port, server: () => server, seen, path: '/stream' });
  });

  describe('the fastify plugin at a prefix', () => {
    const { app, seen } = streamingApp();
    let fastify: FastifyInstance;
    let port: number;
    before(async () => {
      fastify = Fastify();
      await fastify.register(tsgiFastify, { app, prefix: '/legacy', log });
      await fastify.listen({ port: 0, host: '127.0.0.1' });
      port = (fastify.server.address() as net.AddressInfo).port;
    });
    after(async () => {
      fastify.server.closeAllConnections();
      await fastify.close();
    });

    clientGoneCases({ port: () => port, server: () => fastify.server, seen, path: '/legacy/stream' });
  });

  describe('toFetch served by @hono/node-server', () => {
    const { app, seen } = streamingApp();
    let server: http.Server;
    let port: number;
    before(async () => {
      await new Promise<void>((resolve) => {
        // overrideGlobalObjects: false, or the server would replace the global Request and Response for every
        // test that runs after this one in the same process.
        server = serve({ fetch: toFetch(app, { log }), port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false }, () => resolve()) as http.Server;
      });
      port = (server.address() as net.AddressInfo).port;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    clientGoneCases({ port: () => port, server: () => server, seen, path: '/stream' });
  });

  describe('toFetch called with a Request the caller aborts', () => {
    const { app, seen } = streamingApp();
    const handler = toFetch(app, { log });

    it('aborting mid-stream aborts the signal (TSGI_ERR_CLIENT_GONE), stops the app and ends the body stream', async () => {
      const controller = new AbortController();
      const response = await handler(new Request('http://localhost/stream', { signal: controller.signal }));
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).to.equal('line 1\n');
      controller.abort();
      await expectGone(seen());
      // The reader is not left waiting for lines that will never come: the stream ends, short of MAX_LINES.
      let more = 0;
      while (!(await reader.read()).done) more++;
      expect(1 + more).to.be.at.most(seen().lines);
    });

    it('aborting after the response was read to the end does not abort the signal', async () => {
      const controller = new AbortController();
      const response = await handler(new Request('http://localhost/stream?lines=3', { signal: controller.signal }));
      expect(await response.text()).to.equal('line 1\nline 2\nline 3\n');
      await seen().stopped;
      // The dispatcher settles the ClientGone once serveApp is done, a turn after the last chunk was read.
      await new Promise((r) => setImmediate(r));
      controller.abort();
      expect(seen().signal, 'tsgi.client_gone').to.be.instanceOf(AbortSignal);
      expect(seen().signal!.aborted).to.equal(false);
    });
  });
});
