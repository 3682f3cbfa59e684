/**
 * `tsgi.client_gone` on the built-in HTTP server (gateway/core/client-gone.ts).
 *
 * HTTP/1.1: the socket's 'end' (the client sent FIN) or 'close' tells the connection's latest request. A
 * FIN after a complete request may be a half-close (`shutdown(SHUT_WR)`, as `nc -N` does) rather than a
 * client that left: TCP cannot tell them apart until a write fails. The server keeps the connection open
 * for writing (httpAllowHalfOpen), so a half-closing client still gets its response; the signal aborts on
 * the FIN all the same, with a reason that says so, because a client that closed its side will read
 * nothing more in the common case (a browser tab closed, curl interrupted).
 *
 * Two listeners per socket, not per request: the socket remembers its latest request's ClientGone.
 * HTTP/2: the stream's 'close' before the response ended (RST_STREAM, the session gone).
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Socket } from 'node:net';
import { ClientGone } from '../../gateway/core/client-gone.js';

const kGone = Symbol('tsgi.http.clientGone');
type Watched = { [kGone]?: ClientGone };

function onSocketEnd(this: Socket & Watched): void {
  this[kGone]?.gone('the client closed its side of the connection (FIN) before the response was done');
}

function onSocketClose(this: Socket & Watched): void {
  this[kGone]?.gone('the connection closed before the response was done');
}

function onStreamClose(this: Watched): void {
  this[kGone]?.gone('the HTTP/2 stream closed before the response was done');
}

/** The ClientGone of an HTTP/1.x request: told by its socket's end or close. */
export function http1ClientGone(req: IncomingMessage): ClientGone {
  const gone = new ClientGone();
  const socket = req.socket as Socket & Watched;
  if (!(kGone in socket)) {
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
  }
  socket[kGone] = gone;
  // Already gone (the FIN came with the request's last bytes): the app's signal is aborted from the start.
  if (socket.readableEnded) gone.gone('the client closed its side of the connection (FIN) before the response was done');
  return gone;
}

/** The ClientGone of an HTTP/2 request: told by its stream's close. */
export function http2ClientGone(req: Http2ServerRequest): ClientGone {
  const gone = new ClientGone();
  const stream = req.stream as unknown as Watched & { once(event: 'close', fn: () => void): void };
  stream[kGone] = gone;
  stream.once('close', onStreamClose);
  return gone;
}
