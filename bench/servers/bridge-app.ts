/**
 * Bench server for bench/bridge.ts: an express 5 or Hono hello world, served `native` (express's own listen,
 * @hono/node-server), `inline` (tsgi's built-in server, single mode, through fromNode/fromFetch) or `fastcgi`
 * (tsgi's FastCGI front, single mode, for nginx). Prints {"url"} when ready.
 *
 *     node dist/bench/servers/bridge-app.js express|hono native|inline|fastcgi
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { fromFetch, fromNode } from '../../app-api/bridge/index.js';
import type { App } from '../../app-api/types.js';
import { startFastcgiServer } from '../../adapters/fastcgi/server.js';
import { startHttpServer } from '../../adapters/http/server.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { ready, untilSignal } from '../measure.js';

const HELLO = 'Hello, world!\n';
const [framework, how] = process.argv.slice(2);

const web = express();
web.get('/', (_req, res) => {
  res.type('text/plain').send(HELLO);
});
const hono = new Hono();
hono.get('/', (c) => c.text(HELLO));

let stop: () => Promise<void>;
if (how === 'native') {
  if (framework === 'express') {
    const server = web.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    ready(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    stop = () => new Promise((r) => server.close(() => r()));
  } else {
    const server = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((r) => server.once('listening', () => r()));
    ready(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    stop = () => new Promise((r) => server.close(() => r()));
  }
} else {
  const app: App = framework === 'express' ? fromNode(web) : fromFetch(hono);
  const log = new ErrorLog();
  const dispatcher = new InlineDispatcher(app, { log });
  if (how === 'inline') {
    const server = await startHttpServer(dispatcher, { port: 0, log });
    ready(server.url);
    stop = () => server.close(1000);
  } else {
    const server = await startFastcgiServer(dispatcher, { port: 0, log });
    ready(server.address);
    stop = () => server.close(1000);
  }
}
await untilSignal();
await stop();
process.exit(0);
