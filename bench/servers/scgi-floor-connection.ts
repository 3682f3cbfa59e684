/**
 * The bare SCGI floor's connection code (bench/servers/scgi-floor.ts serves it; bench/scgi-path.ts times it
 * in-process): read the netstring head (`LEN:` + LEN bytes + `,`), take CONTENT_LENGTH (the first header, as
 * the protocol requires) and that many body bytes, then write a fixed CGI-style response with the bytes of
 * examples/hello and close. No validation, no environ, no app: the least an SCGI backend in Node can do.
 */
import type { Duplex } from 'node:stream';

const RESPONSE = Buffer.from('Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\r\nHello, world!\n', 'latin1');
const COLON = 0x3a;

/** Serve one SCGI request on a fresh connection (a net.Socket, or any Duplex in the micro benchmark). */
export function serveFloorConnection(socket: Duplex): void {
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
}
