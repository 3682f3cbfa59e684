/**
 * `npm run bench:path`: the CPU cost of one hello-world request on the built-in server's JS path, with no
 * socket and no parser: each handler is called with a real IncomingMessage/ServerResponse pair over a
 * discarding socket, N times in one process, and the mean ns per request printed beside raw node:http's
 * handler doing the same work. wrk figures move by 10% between runs of unchanged code on this machine; these
 * move much less (CPU time of the one process, no network), so they say where the per-request microseconds of the inline path go.
 *
 *     PATH_N=200000 node dist/bench/inline-path.js
 */
import { execFileSync } from 'node:child_process';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import express from 'express';
import { startHttpServer } from '../adapters/http/server.js';
import { TrustedProxyDispatcher } from '../adapters/proxy/dispatcher.js';
import { fromFetch, fromNode } from '../app-api/bridge/index.js';
import type { App } from '../app-api/types.js';
import { app as hello } from '../examples/hello/app.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog } from '../gateway/core/log.js';

const N = Number(process.env.PATH_N ?? 200_000);
const ROUNDS = Number(process.env.PATH_ROUNDS ?? 3);
const SLICES = 40;
const HELLO = 'Hello, world!\n';
const body = Buffer.from(HELLO);
let bytes = 0;
let capture: Buffer[] | null = null;

/** A socket that takes every write and says it is connected from 127.0.0.1:40000 to 127.0.0.1:8080. */
function fakeSocket(): Duplex {
  const s = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) { bytes += chunk.length; capture?.push(Buffer.from(chunk)); cb(); },
    writev(chunks, cb) { for (const c of chunks) { bytes += (c.chunk as Buffer).length; capture?.push(Buffer.from(c.chunk as Buffer)); } cb(); },
  });
  Object.assign(s, { remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 8080, encrypted: false });
  return s;
}

const RAW_HEADERS = ['Host', '127.0.0.1:8080', 'User-Agent', 'wrk', 'Accept', '*/*'];
// The rows whose name says "+xff" get what a proxy in front adds (as bench/proxy-rows.ts sends).
const XFF_HEADERS = [...RAW_HEADERS, 'X-Forwarded-For', '192.0.2.7', 'X-Forwarded-Proto', 'https'];
// "+browser": the headers a browser sends with a page request (17 of them).
const BROWSER_HEADERS = [
  'Host', 'example.test', 'Connection', 'keep-alive', 'sec-ch-ua', '"Chromium";v="131", "Not_A Brand";v="24"',
  'sec-ch-ua-mobile', '?0', 'sec-ch-ua-platform', '"Linux"', 'Upgrade-Insecure-Requests', '1',
  'User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'Sec-Fetch-Site', 'none',
  'Sec-Fetch-Mode', 'navigate', 'Sec-Fetch-User', '?1', 'Sec-Fetch-Dest', 'document', 'Accept-Encoding', 'gzip, deflate, br, zstd',
  'Accept-Language', 'en-US,en;q=0.9', 'Cookie', 'session=2f9c1e; theme=dark', 'Cache-Control', 'max-age=0', 'Priority', 'u=0, i',
];
let rawHeaders = RAW_HEADERS;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * One request through `server`'s 'request' listeners (as Node's parser would emit it); resolves once its
 * response has finished, then closes it as Node's server does (an app that answers later is waited for).
 */
function oneRequest(server: http.Server, socket: Duplex): void | Promise<void> {
  const req = new IncomingMessage(socket as never);
  req.method = 'GET';
  req.url = '/';
  req.httpVersion = '1.1';
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  // As Node's parser does: rawHeaders now, req.headers built from them when first read.
  (req as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(rawHeaders, rawHeaders.length);
  req.complete = true;
  req.push(null);
  const res = new ServerResponse(req);
  res.shouldKeepAlive = true;
  res.assignSocket(socket as never);
  server.emit('request', req, res);
  const done = (): void => {
    res.detachSocket(socket as never);
    res.emit('close');
  };
  // Done when the app has ended the response (Node then holds head and body corked in the socket until the
  // next tick; the loop below lets the ticks run every 64 requests). Waiting for 'finish' instead would time
  // an event loop turn per synchronous response, which dwarfs what is measured here.
  if (res.writableEnded) return done();
  return new Promise<void>((resolve) => res.once('prefinish', () => resolve(done())));
}

async function time(name: string, server: http.Server): Promise<number> {
  const socket = fakeSocket();
  // The connection listeners tsgi puts first (its connection manager), not Node's parser.
  for (const l of server.listeners('connection')) if (l.name !== 'connectionListener') (l as (s: unknown) => void)(socket);
  capture = [];
  await oneRequest(server, socket);
  const out = Buffer.concat(capture).toString('latin1');
  capture = null;
  if (!out.startsWith('HTTP/1.1 200') || !out.endsWith(HELLO)) throw new Error(`${name}: the response was ${JSON.stringify(out)}`);
  for (let i = 0; i < 5000; i++) {
    await oneRequest(server, socket);
    if ((i & 63) === 63) await new Promise((r) => setImmediate(r));
  }
  // The best of many short slices: other processes on the machine take turns and thrash the caches, and the
  // fastest slice is the one they disturbed least. Wall time: the process CPU clock here ticks too coarsely
  // for slices this short.
  let best = Infinity;
  const slice = Math.ceil(N / SLICES);
  for (let k = 0; k < SLICES; k++) {
    const b0 = bytes;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < slice; i++) {
      await oneRequest(server, socket);
      if ((i & 63) === 63) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setImmediate(r));
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / slice);
    // Every request answered in full: as many bytes as the first response, each time (the Date header keeps its length).
    if (bytes - b0 !== out.length * slice) throw new Error(`${name}: ${bytes - b0} bytes for ${slice} responses of ${out.length}`);
  }
  const ns = best;
  return ns;
}

const log = new ErrorLog();
async function tsgiServer(app: App): Promise<http.Server> {
  const s = await startHttpServer(new InlineDispatcher(app, { log }), { listen: false, log });
  return s.fastify.server as unknown as http.Server;
}

// Each row is built and timed in its own process: fromFetch replaces the fetch globals once per process
// (as @hono/node-server's serve() does), so the two Hono rows cannot share one.
const ROWS: Record<string, () => Promise<http.Server>> = {
  'node:http raw': async () =>
    http.createServer(((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length) });
      res.end(body);
    }) as Listener),
  'node:http raw async': async () =>
    http.createServer(((_req, res) => {
      void Promise.resolve().then(() => {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length) });
        res.end(body);
      });
    }) as Listener),
  'tsgi inline (hello)': async () => await tsgiServer(hello),
  // What @hono/node-server's serve() puts on its node:http server.
  'tsgi inline (hello) +xff': async () => await tsgiServer(hello),
  'tsgi inline (hello) +browser': async () => await tsgiServer(hello),
  'tsgi proxy mode +xff': async () => {
    const s = await startHttpServer(new TrustedProxyDispatcher(new InlineDispatcher(hello, { log }), { log }), { listen: false, log });
    return s.fastify.server as unknown as http.Server;
  },
  'hono native': async () => http.createServer(getRequestListener(honoApp().fetch) as never),
  'hono via tsgi inline': async () => await tsgiServer(fromFetch(honoApp())),
  'express native': async () => http.createServer(expressApp() as never),
  'express via tsgi inline': async () => await tsgiServer(fromNode(expressApp())),
};

function honoApp(): Hono {
  const hono = new Hono();
  hono.get('/', (c) => c.text(HELLO));
  return hono;
}

function expressApp(): express.Express {
  const web = express();
  web.get('/', (_req, res) => {
    res.type('text/plain').send(HELLO);
  });
  return web;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (process.argv[2] !== undefined) {
  // A child: time one row once and print the ns per request.
  if (process.argv[2].endsWith('+xff')) rawHeaders = XFF_HEADERS;
  if (process.argv[2].endsWith('+browser')) rawHeaders = BROWSER_HEADERS;
  const server = await ROWS[process.argv[2]]();
  const ns = await time(process.argv[2], server);
  if (bytes === 0) throw new Error('no response bytes were written');
  console.log(JSON.stringify({ ns }));
  process.exit(0);
}

const only = process.env.PATH_ONLY?.split(',');
const names = Object.keys(ROWS).filter((name) => name === 'node:http raw' || !only || only.some((o) => name.includes(o)));
const results = new Map<string, number[]>();
for (let r = 0; r < ROUNDS; r++) {
  for (const name of names) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), name], { encoding: 'utf8' });
    results.set(name, [...(results.get(name) ?? []), (JSON.parse(out.trim().split('\n').pop()!) as { ns: number }).ns]);
  }
}
const base = median(results.get('node:http raw')!);
console.log(`${'path'.padEnd(26)} ${'ns/request'.padStart(10)}  ${'vs raw'.padStart(9)}  rounds (${N} requests each, best of ${SLICES} slices, median of ${ROUNDS} processes)`);
for (const [name, xs] of results) {
  const d = median(xs) - base;
  console.log(`${name.padEnd(26)} ${median(xs).toFixed(0).padStart(10)}  ${((d >= 0 ? '+' : '') + d.toFixed(0)).padStart(9)}  ${xs.map((x) => x.toFixed(0)).join(' / ')}`);
}
