/**
 * Bench floor for SCGI: a bare `net` server that does the least an SCGI backend can do
 * (scgi-floor-connection.ts: read the head and CONTENT_LENGTH body bytes, write a fixed response, close).
 * No validation, no environ, no app: the cost of one connection per request in Node, which an SCGI front
 * cannot beat. Prints {"url": "scgi://127.0.0.1:PORT"} when ready.
 */
import net from 'node:net';
import { ready, untilSignal } from '../measure.js';
import { serveFloorConnection } from './scgi-floor-connection.js';

const server = net.createServer({ allowHalfOpen: true, noDelay: true }, serveFloorConnection);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const addr = server.address();
ready(`scgi://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`);
await untilSignal();
server.close();
process.exit(0);
