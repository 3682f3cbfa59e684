/**
 * Draining a Node HTTP server without failing a request: what a process does before it exits on SIGTERM,
 * reload or recycling, while another process takes the new connections.
 *
 * `server.close()` is not enough. Node closes the "idle" connections at once, and a connection that was just
 * accepted but whose request bytes are not parsed yet counts as idle: under load some clients would see a
 * reset. Fastify's return503OnClosing would answer 503 to a keep-alive client's next request. So instead:
 * - stop accepting (close the listening handle only);
 * - every response from now on says `Connection: close`, and a kept-alive connection that goes idle after a
 *   response is closed (the client knows to reconnect: RFC 9112 section 9.6);
 * - a connection that has not sent its first request yet gets a moment (`freshMs`) to send it;
 * - when the grace period is over, whatever is left is closed.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2Session } from 'node:http2';

interface ConnState {
  served: number;
  active: number;
}

/** Tracks the connections and requests of one Node HTTP(S)/HTTP2 server, and drains them. */
export class HttpDrain {
  private readonly conns = new Map<net.Socket, ConnState>();
  private readonly sessions = new Set<Http2Session>();
  private draining = false;
  private wake: (() => void) | null = null;

  constructor(private readonly server: net.Server) {
    // Plain HTTP: the request's socket is the accepted one. TLS: it is the TLSSocket after the handshake.
    const event = server instanceof tls.Server ? 'secureConnection' : 'connection';
    server.on(event, (socket: net.Socket) => this.track(socket));
    server.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      session.once('close', () => {
        this.sessions.delete(session);
        this.poke();
      });
      if (this.draining) session.close();
    });
    // Prepended: the app may write its whole response synchronously inside fastify's 'request' handler,
    // and `Connection: close` must be decided before the head is written.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
  }

  /** Open connections (HTTP/1 sockets and HTTP/2 sessions). */
  get size(): number {
    return this.conns.size + this.sessions.size;
  }

  private track(socket: net.Socket): void {
    if (this.conns.has(socket)) return;
    this.conns.set(socket, { served: 0, active: 0 });
    socket.once('close', () => {
      this.conns.delete(socket);
      this.poke();
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (req.httpVersionMajor === 2) return; // HTTP/2 streams: the session is drained with GOAWAY instead.
    const socket = req.socket;
    this.track(socket);
    const st = this.conns.get(socket)!;
    st.active++;
    if (this.draining) res.shouldKeepAlive = false;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      st.active--;
      st.served++;
      if (this.draining && st.active === 0) setImmediate(() => this.closeIfIdle(socket));
    };
    res.once('finish', finish);
    res.once('close', finish);
  }

  private closeIfIdle(socket: net.Socket): void {
    const st = this.conns.get(socket);
    if (st !== undefined && st.active === 0 && !socket.destroyed) socket.end();
  }

  private poke(): void {
    this.wake?.();
  }

  /**
   * Stop accepting and wait until every connection is gone, at most `graceMs`; then close what is left.
   * Connections that never sent a request are closed after `freshMs`.
   */
  async drain(graceMs: number, freshMs = Math.min(1000, graceMs)): Promise<void> {
    this.draining = true;
    // net.Server's close, not http.Server's: that one would also cut connections whose first request is
    // still in flight (see the file comment).
    if (this.server.listening) net.Server.prototype.close.call(this.server);
    for (const session of this.sessions) session.close();
    for (const [socket, st] of this.conns) if (st.served > 0 && st.active === 0) socket.end();

    const start = Date.now();
    let freshClosed = false;
    while (this.size > 0) {
      const elapsed = Date.now() - start;
      if (elapsed >= graceMs) break;
      if (!freshClosed && elapsed >= freshMs) {
        freshClosed = true;
        for (const [socket, st] of this.conns) if (st.active === 0) socket.end();
      }
      const wait = freshClosed ? graceMs - elapsed : Math.min(freshMs, graceMs) - elapsed;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, wait));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    for (const socket of this.conns.keys()) socket.destroy();
    for (const session of this.sessions) session.destroy();
  }
}
