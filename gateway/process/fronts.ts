/**
 * Fronts by name, for worker processes. A worker does not hard-code the HTTP server: the plan names a front
 * (`http` today; FastCGI and SCGI register the same way) and the worker asks this table to open it without
 * listening, then either listens on the socket inherited from the pool primary or is handed single
 * connections by the forking parent.
 */
import type net from 'node:net';
import { TsgiError } from '../../app-api/errors.js';
import { startHttpServer } from '../../adapters/http/server.js';
import type { ServerConfig } from '../config/options.js';
import { httpServerOptions } from '../serve.js';
import type { Dispatcher } from '../dispatch.js';
import type { ErrorLog } from '../log.js';
import { HttpDrain } from './http-drain.js';

/** A front opened inside a worker process, not yet accepting. */
export interface OpenFront {
  /** Accept on a listening socket this process inherited (processPool). */
  listenOnFd(fd: number, backlog?: number): Promise<void>;
  /** Serve one connection that was accepted by another process (forking). */
  handleConnection(socket: net.Socket): void;
  /** Stop accepting, let in-flight requests finish within `graceMs`, then close what is left. */
  drain(graceMs: number): Promise<void>;
  /** Open connections. */
  readonly connections: number;
}

/** One front. */
export interface FrontDef {
  /** Build the front on a dispatcher, configured from the `[server]` section, without listening. */
  open(dispatcher: Dispatcher, config: ServerConfig, log: ErrorLog): Promise<OpenFront>;
  /**
   * The bytes to write on a raw accepted connection when no process can take it (forking at its limit): a
   * complete 503 in this protocol, or null when the protocol cannot carry one unread (TLS): then the
   * connection is just closed.
   */
  overloadReply(config: ServerConfig): Buffer | null;
  /** The URL clients use, for the start line. */
  describe(config: ServerConfig, address: { port: number; path?: string }): string;
}

/** Open a front built on a Node net.Server (the HTTP front; any front that has one). */
export function netServerFront(server: net.Server): OpenFront {
  const drainer = new HttpDrain(server);
  return {
    listenOnFd(fd: number, backlog?: number): Promise<void> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ fd, backlog }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    },
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

const HTTP_503 = (() => {
  const body = 'Service Unavailable: every worker process is busy; retry shortly.\n';
  return Buffer.from(
    'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n${body}`,
    'latin1',
  );
})();

const httpFront: FrontDef = {
  async open(dispatcher, config, log) {
    const server = await startHttpServer(dispatcher, { ...httpServerOptions(config), log, listen: false });
    return netServerFront(server.fastify.server as unknown as net.Server);
  },
  overloadReply(config) {
    return config.sslKeyFile !== undefined || config.http2 ? null : HTTP_503;
  },
  describe(config, address) {
    if (address.path !== undefined) return `unix:${address.path}`;
    const host = config.socketHost;
    return `${config.sslKeyFile !== undefined ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  },
};

const FRONTS = new Map<string, FrontDef>([['http', httpFront]]);

/** Make a front available to worker processes under `name` (FastCGI, SCGI...). */
export function registerFront(name: string, def: FrontDef): void {
  FRONTS.set(name, def);
}

/** The front called `name`. */
export function getFront(name: string): FrontDef {
  const def = FRONTS.get(name);
  if (def === undefined) {
    throw new TsgiError('TSGI_ERR_NOT_YET', `protocol = ${name} cannot run in worker processes yet (it can: ${[...FRONTS.keys()].join(', ')}); use processPool/forking with one of those, or a single process`);
  }
  return def;
}
