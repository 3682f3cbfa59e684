/**
 * A plain node:http listener served by tsgi. A `(req, res)` function looks like a tsgi app to the CLI (two
 * parameters), so either export it through fromNode (as `app` below) or name it with `--interface node`:
 *
 *     npx tsgi dist/examples/bridge/node-listener.js                              # `app`
 *     npx tsgi dist/examples/bridge/node-listener.js:listener --interface node    # the listener itself
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromNode } from '../../app-api/bridge/index.js';

/** The listener, as for `http.createServer(listener)`. */
export function listener(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'POST') {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`received ${size} bytes\n`);
    });
    return;
  }
  res.setHeader('content-type', 'text/plain');
  res.write(`hello from node:http at ${req.url}`);
  res.end(` (${req.socket.remoteAddress})\n`);
}

/** The tsgi app. */
export const app = fromNode(listener);
export default app;
