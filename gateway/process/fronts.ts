/**
 * Fronts by protocol, for worker processes. A worker does not hard-code a server: the plan names a front
 * (`server.protocol`: http, fastcgi, scgi or auto) and the worker asks this table to open it without
 * listening, then either listens on the socket inherited from the pool primary or is handed single
 * connections by the forking parent.
 *
 * Each front's code is imported when the front is opened (`open`), not with this table: the supervisor
 * only needs describe() and overloadReply(), and a worker (a forked child starts per connection) imports
 * the one front it serves, not fastify for a FastCGI worker.
 */
import type net from 'node:net';
import { TsgiError } from '../../app-api/errors.js';
import type { ServerConfig } from '../config/options.js';
import type { Dispatcher } from '../dispatch.js';
import type { ErrorLog } from '../log.js';

export { netServerFront, socketFront, type ConnectionHandler } from './open-front.js';

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
   * complete 503 in this protocol, or null when the protocol cannot carry one unread (TLS; FastCGI, whose
   * response names the request id; protocol=auto, which has not sniffed): then the connection is just closed.
   */
  overloadReply(config: ServerConfig): Buffer | null;
  /** The URL clients use, for the start line. */
  describe(config: ServerConfig, address: { port: number; path?: string }): string;
}

const BUSY_BODY = 'Service Unavailable: every worker process is busy; retry shortly.\n';

const HTTP_503 = Buffer.from(
  'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(BUSY_BODY)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n${BUSY_BODY}`,
  'latin1',
);

/** SCGI answers in CGI form and needs nothing from the request to do so. */
const SCGI_503 = Buffer.from(
  'Status: 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(BUSY_BODY)}\r\nRetry-After: 1\r\n\r\n${BUSY_BODY}`,
  'latin1',
);

/** `scheme://host:port`, or `unix:/path`, as the single-process fronts print it. */
function where(scheme: string, config: ServerConfig, address: { port: number; path?: string }): string {
  if (address.path !== undefined) return `unix:${address.path}`;
  const host = config.socketHost;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

const httpFront: FrontDef = {
  open: async (d, c, log) => (await import('./open-http.js')).openHttpFront(d, c, log),
  overloadReply: (config) => (config.sslKeyFile !== undefined || config.http2 ? null : HTTP_503),
  describe: (config, address) => where(config.sslKeyFile !== undefined ? 'https' : 'http', config, address),
};

const fastcgiFront: FrontDef = {
  open: async (d, c, log) => (await import('./open-fastcgi.js')).openFastcgiFront(d, c, log),
  overloadReply: () => null,
  describe: (config, address) => where('fcgi', config, address),
};

const scgiFront: FrontDef = {
  open: async (d, c, log) => (await import('./open-scgi.js')).openScgiFront(d, c, log),
  overloadReply: () => SCGI_503,
  describe: (config, address) => where('scgi', config, address),
};

const autoFront: FrontDef = {
  open: async (d, c, log) => (await import('./open-auto.js')).openAutoFront(d, c, log),
  overloadReply: () => null,
  describe: (config, address) => where('auto', config, address),
};

const FRONTS = new Map<string, FrontDef>([
  ['http', httpFront],
  ['fastcgi', fastcgiFront],
  ['scgi', scgiFront],
  ['auto', autoFront],
]);

/** Make a front available to worker processes under `name` (replacing a built-in one). */
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
