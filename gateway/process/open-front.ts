/**
 * The two shapes of a front opened inside a worker process (an OpenFront): a Node HTTP server, drained by
 * HttpDrain, and a plain socket front (FastCGI, SCGI, protocol=auto) whose connection handler drains its
 * own connections. Both accept on the listening socket inherited from the pool primary (processPool) or
 * serve single connections handed over by the forking parent.
 */
import net from 'node:net';
import type { OpenFront } from './fronts.js';
import { HttpDrain } from './http-drain.js';
import { proxyProtocolReader, type ProxyProtocolOptions } from '../../adapters/proxy/accept.js';

function listenOn(server: net.Server, fd: number, backlog?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd, backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Open a front built on a Node net.Server (the HTTP front; any front that has one). */
export function netServerFront(server: net.Server): OpenFront {
  const drainer = new HttpDrain(server);
  return {
    listenOnFd: (fd, backlog) => listenOn(server, fd, backlog),
    handleConnection(socket: net.Socket): void {
      server.emit('connection', socket);
      // A socket handed over by the parent was accepted with pauseOnConnect.
      socket.resume();
    },
    drain: (graceMs) => drainer.drain(graceMs),
    get connections() {
      return drainer.size;
    },
  };
}

/** A protocol handler for accepted sockets (createFastcgiHandler, the SCGI connection tracker, the auto sniffer). */
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
      if (server.listening) server.close();
      await handler.close(graceMs);
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
