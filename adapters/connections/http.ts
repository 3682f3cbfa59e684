/**
 * The connections of a Node HTTP server (http, https, http2 over TLS with HTTP/1.1 fallback, h2c) on the
 * ConnectionManager: the same header, idle, keep-alive, request and body timeouts for HTTP/1.1 and HTTP/2
 * (Node's HTTP/2 server has none of the first four), and the same drain.
 *
 * Node's own HTTP/1 timers (headersTimeout, keepAliveTimeout, requestTimeout) are switched off by the
 * caller: they would be a second set of timeouts with other rules, and keepAliveTimeout is a
 * `socket.setTimeout()` re-armed on every read and write. The server's request handler reports each request
 * first (httpRequestStarted), so `Connection: close` can be decided during a drain before an app that
 * answers synchronously writes its head. The listeners are shared functions: nothing is allocated per
 * request but the response's own 'close' listener.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2';
import type net from 'node:net';
import tls from 'node:tls';
import { bodyTimedOut } from '../../gateway/core/limits.js';
import type { TsgiError } from '../../app-api/errors.js';
import { ConnectionManager, HEAD, IDLE, ManagedConnection, REQUEST, type ConnectionTimeouts, type TimeoutKind } from './manager.js';

const kConn = Symbol('tsgi.http.connection');
type Tagged = { [kConn]?: HttpConnection };

/** One accepted socket (a TLSSocket after its handshake) and, for HTTP/2, its session. */
class HttpConnection extends ManagedConnection {
  /** Requests (HTTP/1 pipelined, or HTTP/2 streams) whose response has not closed. */
  active = 0;
  /** The latest request: its `complete` ends requestTimeout. */
  req: { readonly complete: boolean } | null = null;
  session: Http2Session | null = null;
  /** HTTP/1: the latest response, told `Connection: close` when a drain starts before its head is out. */
  res: ServerResponse | null = null;
  /** HTTP/1: the latest request's body, failed with 408 when it stalls (watchRequestBody). */
  body: FailableBody | null = null;

  constructor(socket: net.Socket, manager: ConnectionManager) {
    super(socket, manager, HEAD);
    (socket as Tagged)[kConn] = this;
    socket.once('close', onSocketClose);
  }

  requestStarted(req: { readonly complete: boolean }): void {
    this.active++;
    this.req = req;
    if (this.phase !== REQUEST) this.enter(REQUEST);
  }

  responseClosed(): void {
    if (--this.active === 0) {
      this.req = null;
      this.res = null;
      this.body = null;
      this.enter(IDLE);
    }
  }

  override requestReceived(): boolean {
    return this.req === null || this.req.complete;
  }

  override timedOut(kind: TimeoutKind, ms: number): void {
    // A declared body that stopped coming: the app's pending read fails and the core answers 408 (the body
    // closes the connection after it). If the sweep finds the connection still quiet, it is cut below.
    const body = this.body;
    if (kind === 'body' && body !== null && !body.failed && this.req !== null && !this.req.complete && this.res !== null && !this.res.headersSent) {
      const s = this.socket;
      return body.fail(bodyTimedOut(ms, s.remoteAddress === undefined ? 'a unix socket peer' : `${s.remoteAddress}:${s.remotePort}`));
    }
    // An idle HTTP/2 session is told to go away (GOAWAY) rather than cut; one that is still open at the
    // next sweep is destroyed.
    if (kind === 'keepAlive' && this.session !== null && !this.session.closed) this.session.close();
    else super.timedOut(kind, ms);
  }

  override closeIdle(): void {
    if (this.session !== null) this.session.close();
    // After the response's 'close', Node may still be deciding about keep-alive and reading a pipelined
    // request: end on the next turn if nothing started meanwhile.
    else setImmediate(endIfIdle, this);
  }

  override drainStarted(): void {
    // GOAWAY: streams in flight finish, no new stream opens. HTTP/1 responses say `Connection: close`.
    this.session?.close();
    if (this.res !== null && !this.res.headersSent) this.res.shouldKeepAlive = false;
  }

  override destroy(): void {
    this.session?.destroy();
    this.socket.destroy();
  }

  closed(): void {
    this.left();
  }
}

function endIfIdle(conn: HttpConnection): void {
  if (conn.active === 0 && !conn.socket.destroyed) conn.socket.end();
}

function onSocketClose(this: net.Socket): void {
  (this as Tagged)[kConn]?.closed();
}

function onResponseClose(this: (ServerResponse | Http2ServerResponse) & Tagged): void {
  this[kConn]?.responseClosed();
}

/** A request body a body timeout can fail (gateway/core/limits.ts LimitedBody). */
export interface FailableBody {
  readonly failed: boolean;
  fail(err: TsgiError): void;
}

/** HTTP/1: tell the connection of `req` its body (null: none), so a body timeout answers 408 instead of cutting. */
export function watchRequestBody(req: IncomingMessage, body: FailableBody | null): void {
  const conn = (req.socket as unknown as Tagged)[kConn];
  if (conn !== undefined) conn.body = body;
}

/** Watch `server`'s connections with a ConnectionManager of these timeouts; returns the manager (drain with it). */
export function manageHttpConnections(server: net.Server, timeouts: ConnectionTimeouts): ConnectionManager {
  const manager = new ConnectionManager({ ...timeouts, idleReadsStartHead: true });
  // Plain HTTP: requests arrive on the accepted socket. TLS: on the TLSSocket after the handshake.
  const event = server instanceof tls.Server ? 'secureConnection' : 'connection';
  // Prepended: the HTTP/2 server creates its session in its own listener, and 'session' must find us.
  server.prependListener(event, (socket: net.Socket) => {
    if ((socket as Tagged)[kConn] === undefined) new HttpConnection(socket, manager);
  });
  server.on('session', (session: Http2Session) => {
    // session.socket is a proxy of the socket; reading a property reads the socket's.
    const conn = (session.socket as unknown as Tagged)[kConn];
    if (conn === undefined) return;
    conn.session = session;
    if (manager.draining) session.close();
  });
  return manager;
}

/**
 * Tell the manager of `req`'s connection that a request started: the server's request handler calls it
 * first, before anything can write the head, so that a drain already under way answers it with
 * `Connection: close`. A call, not a second 'request' listener: with two listeners every emit copies the
 * listener array (an allocation per request in V8's heap sampling of bench/inline-path.ts).
 */
export function httpRequestStarted(manager: ConnectionManager, req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
  const conn = (req.socket as unknown as Tagged)[kConn];
  if (conn === undefined) return;
  conn.requestStarted(req);
  // Not httpVersionMajor: an HTTP/1 request line may claim HTTP/2.0; only an HTTP/2 request has a stream.
  if ((req as Http2ServerRequest).stream === undefined) {
    conn.res = res as ServerResponse;
    if (manager.draining) conn.res.shouldKeepAlive = false;
  }
  (res as Tagged)[kConn] = conn;
  res.on('close', onResponseClose); // emitted once; `on` spares once()'s wrapper per request
}
