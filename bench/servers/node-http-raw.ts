/** Bench baseline: raw node:http answering the same bytes as examples/hello. Prints {"url"} when ready. */
import http from 'node:http';
import { ready, untilSignal } from '../measure.js';

const body = Buffer.from('Hello, world!\n');
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length) });
  res.end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const addr = server.address();
ready(`http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`);
await untilSignal();
server.close();
process.exit(0);
