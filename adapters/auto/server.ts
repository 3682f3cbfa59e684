/**
 * protocol=auto: one listener for every front. The first bytes of each connection say which protocol it
 * speaks (sniff.ts); the socket then goes, with those bytes pushed back, to the front that speaks it:
 * HTTP/1.x and HTTP/2 prior knowledge to the built-in server (not listening itself: it gets the socket with
 * `server.emit('connection')`), SCGI and FastCGI to their fronts' handlers.
 *
 * A connection whose first bytes are not decided within `detectTimeout` is closed, so a client that
 * connects and sends nothing holds a socket, never the listener. Unrecognised bytes close the connection
 * with one TSGI_ERR_PROTOCOL log line. TLS is refused with a line naming the fix: TLS needs the socket
 * untouched, and the sniffer has read from it.
 */
import net, { type Socket } from 'node:net';
import { tsgiError } from '../../app-api/errors.js';
import type { Dispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { startHttpServer, type HttpServer, type HttpServerOptions } from '../http/server.js';
import { createFastcgiHandler, type FastcgiHandler, type FastcgiOptions } from '../fastcgi/server.js';
import { createScgiHandler, peerName, type ScgiConnectionOptions } from '../scgi/connection.js';
import { listen, type ListenOptions } from '../listen.js';
import { refuseConnection } from '../refuse.js';
import { sniffProtocol, type Sniffed } from './sniff.js';
import { proxyProtocolReader, type ProxyProtocolOptions } from '../proxy/accept.js';

/** Settings of the auto front other than where it listens: shared and per protocol. */
export interface AutoHandlerOptions {
  /** Mount point, for every protocol. */
  scriptName?: string;
  /** Error log, for every protocol. */
  log?: ErrorLog;
  /** The first bytes must decide the protocol within this time. Default 10 s. */
  detectTimeout?: number;
  /** Settings of the built-in HTTP server (not where it listens: it does not). `http2: true` also accepts h2c prior knowledge. */
  http?: Omit<HttpServerOptions, 'host' | 'port' | 'socketFile' | 'backlog' | 'listen' | 'scriptName' | 'log'>;
  /** Settings of SCGI connections. */
  scgi?: Omit<ScgiConnectionOptions, 'scriptName' | 'log'>;
  /** Settings of FastCGI connections. */
  fastcgi?: Omit<FastcgiOptions, 'scriptName' | 'log'>;
}

/** Options of the auto front: where to listen, the shared settings, and per-protocol settings. */
export interface AutoServerOptions extends ListenOptions, AutoHandlerOptions {
  /** Read a PROXY protocol header off every connection before the protocol is sniffed (adapters/proxy/accept.ts). */
  proxyProtocol?: ProxyProtocolOptions;
}

/** Sniffs and serves connections accepted elsewhere (a worker process's own listener, or a forked child). */
export interface AutoHandler {
  /** Sniff the first bytes of an accepted socket and hand it to the front of its protocol. */
  handleConnection(socket: Socket): void;
  /** Connections on every protocol that are open now (HTTP ones counted from their sniffing to their close). */
  readonly connections: number;
  /** Requests in flight on every protocol get `graceMs` to finish, then are cut; new sockets are refused. */
  close(graceMs?: number): Promise<void>;
}

/** A listening auto front. */
export interface AutoServer {
  readonly server: net.Server;
  /** `127.0.0.1:8080`-style address, or the unix socket path. */
  readonly url: string;
  /** The bound TCP port (0 for a unix socket). */
  readonly port: number;
  /** Stop accepting; requests in flight on every protocol get `graceMs` to finish, then are cut. */
  close(graceMs?: number): Promise<void>;
}

/** Where each protocol's sockets go. */
export interface ProtocolRoutes {
  http1(socket: Socket): void;
  /** Absent: h2c prior knowledge is refused with a log line naming the option. */
  http2?(socket: Socket): void;
  scgi(socket: Socket): void;
  /** Absent: FastCGI is refused with a log line. */
  fastcgi?(socket: Socket): void;
}

/**
 * Read the first bytes of `socket`, decide its protocol, push the bytes back and hand it to its route.
 * Exported for tests and for fronts that accept sockets themselves.
 */
export function sniffAndRoute(socket: Socket, routes: ProtocolRoutes, log: ErrorLog, detectTimeout: number): void {
  const chunks: Buffer[] = [];
  const refuse = (problem: string): void => refuseConnection(socket, log, `protocol=auto: ${problem}`, peerName(socket));
  const detach = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
  };
  const timer = setTimeout(() => {
    detach();
    if (chunks.length === 0) socket.destroy(); // connected and never spoke: not worth a log line
    else refuse(`the first bytes did not name a protocol within ${detectTimeout} ms`);
  }, detectTimeout);
  timer.unref();

  const onEnd = (): void => {
    detach();
    if (chunks.length === 0) socket.destroy();
    else refuse('the connection closed before its first bytes named a protocol');
  };

  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    const head = chunks.length === 1 ? chunk : Buffer.concat(chunks);
    const kind: Sniffed = sniffProtocol(head);
    if (kind === 'more') return;
    detach();
    socket.pause();
    if (kind === 'unknown') return refuse(`unrecognised first bytes ${JSON.stringify(head.subarray(0, 16).toString('latin1'))} (not HTTP/1.x, h2c, SCGI or FastCGI)`);
    if (kind === 'tls') return refuse('a TLS handshake on a protocol=auto listener (it serves cleartext only: for HTTPS use protocol=http with sslKeyFile and sslCertificateFile)');
    const route = kind === 'http1' ? routes.http1 : kind === 'http2' ? routes.http2 : kind === 'scgi' ? routes.scgi : routes.fastcgi;
    if (route === undefined) {
      return refuse(kind === 'http2' ? 'HTTP/2 prior knowledge (h2c) on a listener without http2 (set http2 = true)' : `${kind} is not available on this listener`);
    }
    socket.unshift(head);
    route(socket);
  };

  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', () => {}); // resets before the protocol is known: nothing to report
}

/** Build the auto front for a dispatcher without a listener. */
export async function createAutoHandler(dispatcher: Dispatcher, opts: AutoHandlerOptions = {}): Promise<AutoHandler> {
  const log = opts.log ?? new ErrorLog();
  const scriptName = opts.scriptName;
  const httpOpts = opts.http ?? {};
  if (httpOpts.sslKeyFile !== undefined || httpOpts.sslCertificateFile !== undefined) {
    throw tsgiError('TSGI_ERR_CONFIG', { where: 'protocol=auto', problem: 'serves cleartext only (its sniffer reads the first bytes, which TLS needs untouched)', fix: 'for HTTPS use protocol=http' });
  }
  const http1: HttpServer = await startHttpServer(dispatcher, { ...httpOpts, http2: false, listen: false, scriptName, log });
  const h2c: HttpServer | null = httpOpts.http2 === true ? await startHttpServer(dispatcher, { ...httpOpts, http2: true, listen: false, scriptName, log }) : null;
  // For the gateway protocols '' means "not set": keep the web server's SCRIPT_NAME/PATH_INFO split (as the
  // fastcgi and scgi fronts do); re-splitting at the root would turn SCRIPT_NAME /app into PATH_INFO /app/x.
  const gatewayScriptName = scriptName === '' ? undefined : scriptName;
  const fastcgi: FastcgiHandler = createFastcgiHandler(dispatcher, { ...opts.fastcgi, scriptName: gatewayScriptName, log });
  const scgiOpts: ScgiConnectionOptions = { ...opts.scgi, scriptName: gatewayScriptName, log };
  const scgi = createScgiHandler(dispatcher, scgiOpts);
  const open = new Set<Socket>();
  /** Connected, first bytes not decided yet: no request started on them. */
  const sniffing = new Set<Socket>();
  let closing: Promise<void> | null = null;

  const routes: ProtocolRoutes = {
    http1(socket) {
      // Node's HTTP/1 server reads through its parser once it has the socket; resume so the bytes pushed back flow first.
      http1.fastify.server.emit('connection', socket);
      socket.resume();
    },
    scgi(socket) {
      scgi.handleConnection(socket);
      socket.resume();
    },
    fastcgi(socket) {
      // FastCGI ends its requests with records; the web server's FIN means the connection is over (as on the
      // FastCGI front's own listener). Left half-open, a closed keep-conn connection lingered until the idle timeout.
      socket.allowHalfOpen = false;
      fastcgi.handleConnection(socket);
      socket.resume();
    },
  };
  // The HTTP/2 session reads the bytes pushed back itself (socket.read() on the next tick): no resume.
  if (h2c !== null) routes.http2 = (socket) => h2c.fastify.server.emit('connection', socket);
  const decided = (route: ((socket: Socket) => void) | undefined) =>
    route === undefined
      ? undefined
      : (socket: Socket): void => {
          sniffing.delete(socket);
          route(socket);
        };
  const tracked: ProtocolRoutes = { http1: decided(routes.http1)!, http2: decided(routes.http2), scgi: decided(routes.scgi)!, fastcgi: decided(routes.fastcgi) };

  return {
    handleConnection(socket: Socket): void {
      if (closing !== null) return void socket.destroy();
      open.add(socket);
      sniffing.add(socket);
      socket.once('close', () => {
        open.delete(socket);
        sniffing.delete(socket);
      });
      sniffAndRoute(socket, tracked, log, opts.detectTimeout ?? 10_000);
    },
    get connections(): number {
      return open.size;
    },
    close(graceMs = 30_000): Promise<void> {
      for (const socket of sniffing) socket.destroy();
      closing ??= Promise.all([
        http1.close(graceMs),
        h2c?.close(graceMs),
        fastcgi.close(graceMs),
        scgi.close(graceMs),
      ]).then(() => undefined);
      return closing;
    },
  };
}

/** Start one listener that serves HTTP/1.x, h2c (with `http.http2`), SCGI and FastCGI. */
export async function startAutoServer(dispatcher: Dispatcher, opts: AutoServerOptions = {}): Promise<AutoServer> {
  const log = opts.log ?? new ErrorLog();
  const handler = await createAutoHandler(dispatcher, { ...opts, log });
  let closing: Promise<void> | null = null;
  // allowHalfOpen: SCGI and FastCGI peers may shut down their sending side and still wait for the response
  // (Node's HTTP server sets the same on its own sockets).
  const serve = (socket: Socket): void => handler.handleConnection(socket);
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, opts.proxyProtocol === undefined ? serve : proxyProtocolReader(opts.proxyProtocol, (s) => (serve(s), s.resume())));
  server.on('error', (err) => log.log('error', 'protocol=auto listener error', err));
  const { port, url } = await listen(server, opts, 8080);

  return {
    server,
    url,
    port,
    close(graceMs = 30_000): Promise<void> {
      if (closing !== null) return closing;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      closing = handler.close(graceMs).then(() => stopped);
      return closing;
    },
  };
}
