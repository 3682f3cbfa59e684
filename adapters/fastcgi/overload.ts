/**
 * A FastCGI connection turned away before any process reads it (forking at maxChildren): answered with a
 * response the web server passes on (a CGI-form 503 with Retry-After), not closed unanswered, which nginx,
 * Apache and lighttpd all report to their client as 502 Bad Gateway.
 *
 * HTTP and SCGI can write their 503 without reading a byte. A FastCGI response cannot: its records name the
 * request id of the FCGI_BEGIN_REQUEST they answer, so the first record header is read first. A peer whose
 * first record is anything else (a management record, bytes that are not FastCGI) is closed, as before.
 */
import type net from 'node:net';
import { encodeEndRequest, encodeRecord, FCGI_BEGIN_REQUEST, FCGI_REQUEST_COMPLETE, FCGI_STDOUT, FCGI_VERSION_1, HEADER_LEN, MAX_CONTENT } from './records.js';

/**
 * The whole response to request `requestId`: `cgiResponse` (a CGI-form head and body, at most one record)
 * as FCGI_STDOUT, the end of the stream, and FCGI_END_REQUEST. The protocol status is REQUEST_COMPLETE, not
 * FCGI_OVERLOADED: the 503 in STDOUT is what the client must see, and a web server that read
 * FCGI_OVERLOADED as "no response" would answer 502 again.
 */
export function fastcgiReply(requestId: number, cgiResponse: Buffer): Buffer {
  if (cgiResponse.length > MAX_CONTENT) throw new RangeError('the reply must fit one FastCGI record');
  return Buffer.concat([encodeRecord(FCGI_STDOUT, requestId, cgiResponse), encodeRecord(FCGI_STDOUT, requestId), encodeEndRequest(requestId, 0, FCGI_REQUEST_COMPLETE)]);
}

/**
 * Read the first record header of a paused, just-accepted `socket`, answer its request with `cgiResponse`
 * and end the connection; what the peer sends after is read and dropped, so the close does not reset the
 * connection before the web server has read the reply. The caller bounds how long the socket may live.
 */
export function refuseFastcgiConnection(socket: net.Socket, cgiResponse: Buffer): void {
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
    socket.end(fastcgiReply(requestId, cgiResponse));
    socket.resume(); // flowing with no 'data' listener: the rest is dropped
  };
  socket.on('data', onData);
  socket.resume();
}
