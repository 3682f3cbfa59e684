/**
 * Bench floor for SCGI: a bare `net` server that does the least an SCGI backend can do. It reads the
 * netstring head (`LEN:` + LEN bytes + `,`), takes CONTENT_LENGTH (the first header, as the protocol
 * requires) and reads that many body bytes, then writes a fixed CGI-style response with the bytes of
 * examples/hello and closes. No validation, no environ, no app: the cost of one connection per request
 * in Node, which an SCGI front cannot beat. Prints {"url": "scgi://127.0.0.1:PORT"} when ready.
 */
import net from 'node:net';
import { ready, untilSignal } from '../measure.js';

const RESPONSE = Buffer.from('Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\r\nHello, world!\n', 'latin1');
const COLON = 0x3a;

const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  let buf: Buffer | null = null;
  let done = false;
  socket.on('data', (data: Buffer) => {
    if (done) return;
    buf = buf === null ? data : Buffer.concat([buf, data]);
    const colon = buf.indexOf(COLON);
    if (colon === -1) return;
    const headLen = Number(buf.toString('latin1', 0, colon));
    const headEnd = colon + 1 + headLen; // the ',' after the header block
    if (buf.length <= headEnd) return;
    // "CONTENT_LENGTH\0<digits>\0" opens the header block.
    const valueStart = colon + 1 + 15;
    const contentLength = Number(buf.toString('latin1', valueStart, buf.indexOf(0, valueStart)));
    if (buf.length < headEnd + 1 + contentLength) return;
    done = true;
    socket.end(RESPONSE);
  });
  // The peer closed its side: answer with ours unless the response (socket.end above) already did. A second
  // end() would raise ERR_STREAM_WRITE_AFTER_END for every request (it was 16% of this floor's CPU).
  socket.on('end', () => {
    if (!done) socket.end();
  });
  socket.on('error', () => socket.destroy());
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const addr = server.address();
ready(`scgi://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`);
await untilSignal();
server.close();
process.exit(0);
