/**
 * A FastCGI connection turned away before any process reads it (forking at maxChildren): answered with a
 * response the web server passes on (503 with Retry-After), not closed unanswered, which nginx, Apache and
 * lighttpd all report to their client as 502 Bad Gateway.
 *
 * HTTP and SCGI can write their 503 without reading a byte. A FastCGI response cannot: its records name the
 * request id of the FCGI_BEGIN_REQUEST they answer, so the first record header is read first. A peer whose
 * first record is anything else (a management record, bytes that are not FastCGI) is closed, as before. The
 * answer goes through the FastcgiSink, the one place FastCGI responses are framed.
 */
import type net from 'node:net';
import type { HeaderList } from '../../app-api/types.js';
import { FCGI_BEGIN_REQUEST, FCGI_VERSION_1, HEADER_LEN } from './records.js';
import { FastcgiSink } from './sink.js';

/** A whole response, made once by the caller. */
export interface FastcgiRefusal {
  code: number;
  reason: string;
  headers: HeaderList;
  body: Buffer;
}

/**
 * Read the first record header of a paused, just-accepted `socket`, answer its request with `refusal` and
 * end the connection; what the peer sends after is read and dropped, so the close does not reset the
 * connection before the web server has read the answer. The caller bounds how long the socket may live.
 */
export function refuseFastcgiConnection(socket: net.Socket, refusal: FastcgiRefusal): void {
  let head: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    if (head.length < HEADER_LEN) return;
    socket.off('data', onData);
    const requestId = head.readUInt16BE(2);
    if (head[0] !== FCGI_VERSION_1 || head[1] !== FCGI_BEGIN_REQUEST || requestId === 0) {
      socket.destroy();
      return;
    }
    const sink = new FastcgiSink(
      {
        send: (buf) => socket.write(buf),
        drained: () => Promise.resolve(),
        requestEnded: () => socket.end(),
        abortConnection: () => socket.destroy(),
      },
      { requestId, closed: false },
    );
    sink.start(refusal.code, refusal.reason, refusal.headers);
    sink.end(refusal.body);
    socket.resume(); // flowing with no 'data' listener: the rest is dropped
  };
  socket.on('data', onData);
  socket.resume();
}
