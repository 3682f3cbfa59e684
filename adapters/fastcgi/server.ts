/**
 * The FastCGI server: listens on TCP, on a unix socket, or on a listening socket inherited as fd 0
 * (FCGI_LISTENSOCK_FILENO: how Apache mod_fcgid, lighttpd `bin-path` and spawn-fcgi start an app), and
 * runs every accepted connection as an FcgiConnection. `createFastcgiHandler` is the same without a
 * listener, for a front that accepts sockets itself (protocol=auto sniffing the first bytes).
 */
import { fstatSync } from 'node:fs';
import net, { type Socket } from 'node:net';
import { tsgiError } from '../../app-api/errors.js';
import { drainFront, stopAccepting } from '../connections/drain.js';
import { ConnectionManager } from '../connections/manager.js';
import { listen } from '../listen.js';
import type { Dispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { requestLimits, type RequestLimits } from '../../gateway/core/limits.js';
import { FcgiConnection, type ConnectionSettings } from './connection.js';
import { proxyProtocolReader, type ProxyProtocolOptions } from '../proxy/accept.js';

/** File descriptor of the listening socket a FastCGI web server hands its app (spec 2.2). */
export const FCGI_LISTENSOCK_FILENO = 0;

/** Settings of the FastCGI front. Times are milliseconds. */
export interface FastcgiOptions {
  /** Mount point: SCRIPT_NAME, as for the other fronts. The web server's SCRIPT_NAME/PATH_INFO split is redone against it. */
  scriptName?: string;
  /** Error log. */
  log?: ErrorLog;
  /** Connections accepted at once; advertised as FCGI_MAX_CONNS. Default 1024. */
  maxConnections?: number;
  /** Concurrent (multiplexed) requests per connection; one more closes the connection. Default 128. */
  maxRequestsPerConnection?: number;
  /** Total FCGI_PARAMS bytes of one request (request headers + CGI variables); past it the request is answered 431. Default 1 MiB. */
  maxParamsBytes?: number;
  /** Request line, header and body limits (gateway/core/limits.ts). Default gunicorn's, no body limit. */
  limits?: Partial<RequestLimits>;
  /** A running request whose FCGI_STDIN stalls this long fails its body read with 408. Default 60 s; 0 = never. */
  bodyTimeout?: number;
  /** Request body bytes queued per request, unread by the app, before the socket is paused. Default 256 KiB. */
  inputHighWaterMark?: number;
  /** Close a connection without a running request after this long without traffic. Default 120 s; 0 = never. */
  idleTimeout?: number;
  /**
   * Deadline, ms, for a request's FCGI_PARAMS to be complete once its FCGI_BEGIN_REQUEST arrived (a peer
   * dripping params bytes is never idle, so idleTimeout alone would hold it forever). 0 = none. Default 20 s.
   */
  headerTimeout?: number;
}

/** Where to listen. Exactly one of port, socketFile or fd. */
export interface FastcgiServerOptions extends FastcgiOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** A unix socket path. A stale socket file left by a dead server is removed; a live one is an error. */
  socketFile?: string;
  /** An inherited listening socket, normally FCGI_LISTENSOCK_FILENO (0): see isInheritedListenSocket(). */
  fd?: number;
  /** Listen backlog. Default 511, as Node. */
  backlog?: number;
  /** Read a PROXY protocol header off every connection first (adapters/proxy/accept.ts). */
  proxyProtocol?: ProxyProtocolOptions;
}

/** Serves FastCGI connections accepted elsewhere. */
export interface FastcgiHandler {
  /**
   * Run the FastCGI protocol on an accepted socket. Bytes already read from it (a sniffer's) go in `head`,
   * or are `socket.unshift()`ed before the call; either works.
   */
  handleConnection(socket: Socket, head?: Buffer): void;
  /** Connections open now. */
  readonly connections: number;
  /** Finish active requests, close idle keep-conn connections; after `graceMs` close the rest. */
  close(graceMs?: number): Promise<void>;
}

/** A listening FastCGI server. */
export interface FastcgiServer extends FastcgiHandler {
  readonly server: net.Server;
  /** `fcgi://127.0.0.1:9000`, the unix socket path, or `fd:0`. */
  readonly address: string;
  /** The bound TCP port (0 for a unix socket or an inherited fd). */
  readonly port: number;
  /** Stop accepting, finish active requests, close idle keep-conn connections; after `graceMs` close the rest. */
  close(graceMs?: number): Promise<void>;
}

/**
 * True when fd 0 is a socket: the process was started the FastCGI way (mod_fcgid, lighttpd bin-path,
 * spawn-fcgi) rather than as CGI (stdin a pipe or a file) or from a terminal. The spec's own test,
 * getpeername() failing with ENOTCONN, is not reachable from Node; a connected socket on stdin (inetd) is
 * not a case web servers use, and listen({fd: 0}) then fails with a clear error.
 */
export function isInheritedListenSocket(fd = FCGI_LISTENSOCK_FILENO): boolean {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}

/** Build the FastCGI protocol handler for a dispatcher, without a listener. */
export function createFastcgiHandler(dispatcher: Dispatcher, opts: FastcgiOptions = {}): FastcgiHandler {
  const maxConnections = opts.maxConnections ?? 1024;
  const perConn = opts.maxRequestsPerConnection ?? 128;
  const settings: ConnectionSettings = {
    dispatcher,
    log: opts.log ?? new ErrorLog(),
    scriptName: opts.scriptName,
    maxRequestsPerConnection: perConn,
    maxParamsBytes: opts.maxParamsBytes ?? 1024 * 1024,
    limits: requestLimits(opts.limits),
    inputHighWaterMark: opts.inputHighWaterMark ?? 256 * 1024,
    values: { maxConns: maxConnections, maxReqs: maxConnections * perConn },
  };
  const idleTimeout = opts.idleTimeout ?? 120_000;
  const headerTimeout = opts.headerTimeout ?? 20_000;
  // While a request runs only bodyTimeout, and only for a stalled FCGI_STDIN (FcgiConnection.timedOut): a slow
  // app is not idle (FastCGI multiplexes; the web server has its own read timeout). headerTimeout bounds
  // FCGI_BEGIN_REQUEST .. the end of FCGI_PARAMS (a peer dripping params is never idle).
  const manager = new ConnectionManager({ idleTimeout, headerTimeout, bodyTimeout: opts.bodyTimeout ?? 60_000 });
  let closing: Promise<void> | null = null;

  return {
    handleConnection(socket: Socket, head?: Buffer): void {
      if (closing !== null) {
        socket.destroy();
        return;
      }
      if (head !== undefined && head.length > 0) socket.unshift(head);
      new FcgiConnection(socket, manager, settings);
    },
    get connections(): number {
      return manager.size;
    },
    close(graceMs = 30_000): Promise<void> {
      closing ??= drainFront(null, manager, graceMs, 'FastCGI', settings.log);
      return closing;
    },
  };
}

/** Create and start a FastCGI server for a dispatcher. */
export async function startFastcgiServer(dispatcher: Dispatcher, opts: FastcgiServerOptions = {}): Promise<FastcgiServer> {
  const where = [opts.port !== undefined, opts.socketFile !== undefined, opts.fd !== undefined].filter(Boolean).length;
  if (where > 1) throw tsgiError('TSGI_ERR_CONFIG', { where: 'FastCGI', problem: 'more than one of port, socketFile and fd is given', fix: 'give one of them' });
  const handler = createFastcgiHandler(dispatcher, opts);
  const serve = (socket: Socket): void => handler.handleConnection(socket);
  const server = net.createServer({ noDelay: true }, opts.proxyProtocol === undefined ? serve : proxyProtocolReader(opts.proxyProtocol, (s) => (serve(s), s.resume())));
  server.maxConnections = opts.maxConnections ?? 1024;

  const { port, url } = await listen(server, opts, 9000, 'it must be a listening socket, as mod_fcgid, lighttpd bin-path and spawn-fcgi pass');
  const address = opts.fd !== undefined || opts.socketFile !== undefined ? url : `fcgi://${url}`;

  let closing: Promise<void> | null = null;
  return {
    server,
    address,
    port,
    handleConnection: handler.handleConnection,
    get connections(): number {
      return handler.connections;
    },
    close(graceMs = 30_000): Promise<void> {
      if (closing !== null) return closing;
      const stopped = stopAccepting(server);
      closing = Promise.all([stopped, handler.close(graceMs)]).then(() => undefined);
      return closing;
    },
  };
}
