/**
 * Bench baseline: the npm package node-fastcgi answering the same bytes as examples/hello, for nginx
 * fastcgi_pass in front. Prints {"url": "fcgi://127.0.0.1:PORT"} when ready.
 */
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import { ready, untilSignal } from '../measure.js';

// node-fastcgi is CommonJS without types: an http-like createServer.
const fcgi = createRequire(import.meta.url)('node-fastcgi') as { createServer(fn: (req: IncomingMessage, res: ServerResponse) => void): Server };

const body = Buffer.from('Hello, world!\n');
const server = fcgi.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length) });
  res.end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const addr = server.address();
ready(`fcgi://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`);
await untilSignal();
server.close();
process.exit(0);
