/**
 * The two shapes of a front opened inside a worker process (an OpenFront): the built-in HTTP server, and a
 * plain socket front (FastCGI, SCGI, protocol=auto) around a connection handler. Both drain their
 * connections the one way (adapters/connections: stop accepting, idle connections closed at once,
 * requests in flight given the grace period), and accept on the listening socket inherited from the pool
 * primary (processPool) or serve single connections handed over by the forking parent.
 */
import net from 'node:net';
import { stopAccepting } from '../../adapters/connections/drain.js';
import type { HttpServer } from '../../adapters/http/server.js';
import { listen } from '../../adapters/listen.js';
import type { OpenFront } from './types.js';
import { proxyProtocolReader, type ProxyProtocolOptions } from '../../adapters/proxy/accept.js';

function listenOn(server: net.Server, fd: number, backlog?: number): Promise<void> {
  return listen(server, { fd, backlog }, 0).then(() => undefined);
}

/** Open the built-in HTTP server (built with `listen: false`) as a worker's front. */
export function netServerFront(http: HttpServer): OpenFront {
  const server = http.fastify.server as unknown as net.Server;
  return {
    listenOnFd: (fd, backlog) => listenOn(server, fd, backlog),
    handleConnection(socket: net.Socket): void {
      // Built by the IPC channel with Node's defaults: a client's FIN would end it before the response
      // (the HTTP server lets a half-closing client read its answer, adapters/http/server.ts).
      socket.allowHalfOpen = true;
      server.emit('connection', socket);
      // A socket handed over by the parent was accepted with pauseOnConnect.
      socket.resume();
    },
    drain: (graceMs) => http.close(graceMs),
    get connections() {
      return http.connections;
    },
  };
}

/** A protocol handler for accepted sockets (createFastcgiHandler, createScgiHandler, the auto sniffer). */
export interface ConnectionHandler {
  /** Serve one accepted socket. */
  handle(socket: net.Socket): void;
  /** Finish what is in flight within `graceMs`, then close what is left. */
  close(graceMs: number): Promise<void>;
  /** Connections open now. */
  readonly connections: number;
}

/**
 * Open a front around a connection handler. `allowHalfOpen`: the protocol's peer may shut down its sending
 * side and still read the response (SCGI; protocol=auto, which may be SCGI): set on accepted sockets and on
 * sockets handed over by the forking parent alike, as the single-process front does.
 */
export function socketFront(handler: ConnectionHandler, opts: { allowHalfOpen: boolean }): OpenFront {
  const server = net.createServer({ allowHalfOpen: opts.allowHalfOpen, noDelay: true }, (socket) => handler.handle(socket));
  return {
    listenOnFd: (fd, backlog) => listenOn(server, fd, backlog),
    handleConnection(socket: net.Socket): void {
      // The socket was built by the IPC channel with Node's defaults, not by our server.
      if (opts.allowHalfOpen) socket.allowHalfOpen = true;
      socket.setNoDelay(true);
      handler.handle(socket);
      // Accepted by the parent with pauseOnConnect.
      socket.resume();
    },
    async drain(graceMs: number): Promise<void> {
      const stopped = stopAccepting(server);
      await handler.close(graceMs);
      await stopped;
    },
    get connections() {
      return handler.connections;
    },
  };
}

/**
 * A socket front's handler with the PROXY protocol reader in front when `opts` is set. The socket is
 * resumed once the header is read (the caller's resume after handle() came too early for the front's reader).
 */
export function withProxyProtocol(opts: ProxyProtocolOptions | undefined, handle: (socket: net.Socket) => void): (socket: net.Socket) => void {
  if (opts === undefined) return handle;
  return proxyProtocolReader(opts, (socket) => {
    handle(socket);
    socket.resume();
  });
}

/** An adapter's connection handler, as createFastcgiHandler, createScgiHandler and createAutoHandler return it. */
export interface AdapterHandler {
  handleConnection(socket: net.Socket): unknown;
  close(graceMs: number): Promise<void>;
  readonly connections: number;
}

/** Open a socket front around an adapter's handler, with the listener's PROXY protocol reader in front. */
export function handlerFront(handler: AdapterHandler, proxy: ProxyProtocolOptions | undefined, opts: { allowHalfOpen: boolean }): OpenFront {
  return socketFront(
    {
      handle: withProxyProtocol(proxy, (socket) => void handler.handleConnection(socket)),
      close: (graceMs) => handler.close(graceMs),
      get connections() {
        return handler.connections;
      },
    },
    opts,
  );
}
