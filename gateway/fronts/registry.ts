/**
 * The one front registry: every protocol by name, used by every concurrency model. Single-process modes
 * start a front from it (`start`), worker processes open one without listening (`open`), and the supervisors
 * ask it for a start-line URL and an overload reply without loading the front's code.
 *
 * Each front's code (./http.ts, ./fastcgi.ts, ...) is imported when the front is used, not with this table:
 * a FastCGI worker does not load fastify, and a forked child's start-up is on the path of its first request.
 * To plug in a protocol: `registerFront(name, def)`.
 */
import type net from 'node:net';
import { tsgiError } from '../../app-api/errors.js';
import type { HeaderList } from '../../app-api/types.js';
import type { FastcgiRefusal } from '../../adapters/fastcgi/overload.js';
import type { Protocol, ServerConfig } from '../config/options.js';
import type { Dispatcher } from '../core/dispatch.js';
import type { ErrorLog } from '../core/log.js';
import type { Front, FrontDef } from './types.js';

export type { Front, FrontDef, FrontModule, FrontStarter, OpenFront } from './types.js';
export { netServerFront, socketFront, type ConnectionHandler } from './worker-front.js';

// The forking parent's 503, described once and written in each protocol's form below.
const BUSY_BODY = 'Service Unavailable: every worker process is busy; retry shortly.\n';
const BUSY_HEADERS: HeaderList = [
  ['Content-Type', 'text/plain; charset=utf-8'],
  ['Content-Length', String(Buffer.byteLength(BUSY_BODY))],
  ['Retry-After', '1'],
];
const BUSY_LINES = BUSY_HEADERS.map(([name, value]) => `${name}: ${value}\r\n`).join('');

const HTTP_503 = Buffer.from(`HTTP/1.1 503 Service Unavailable\r\n${BUSY_LINES}Connection: close\r\n\r\n${BUSY_BODY}`, 'latin1');

/** SCGI answers in CGI form and needs nothing from the request to do so. */
const SCGI_503 = Buffer.from(`Status: 503 Service Unavailable\r\n${BUSY_LINES}\r\n${BUSY_BODY}`, 'latin1');

/** Answer with fixed bytes, then read and drop what the client sends, so the close does not reset the connection before the client reads them. */
function replyWith(bytes: Buffer): (socket: net.Socket) => void {
  return (socket) => {
    socket.end(bytes);
    socket.resume();
  };
}

const HTTP_REPLY = replyWith(HTTP_503);
const SCGI_REPLY = replyWith(SCGI_503);
const FASTCGI_BUSY: FastcgiRefusal = { code: 503, reason: 'Service Unavailable', headers: BUSY_HEADERS, body: Buffer.from(BUSY_BODY) };
// Loaded on first use, as the fronts are: the table stays free of front code (see above).
const FASTCGI_REPLY = (socket: net.Socket): void => {
  import('../../adapters/fastcgi/overload.js').then(
    (m) => m.refuseFastcgiConnection(socket, FASTCGI_BUSY),
    () => socket.destroy(),
  );
};

/** `scheme://host:port`, or `unix:/path`, as the single-process fronts print it. */
function where(scheme: string, config: ServerConfig, address: { port: number; path?: string }): string {
  if (config.socketFd !== undefined) return `fd://${config.socketFd}`;
  if (address.path !== undefined) return `unix:${address.path}`;
  const host = config.socketHost;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

const httpFront: FrontDef = {
  load: async () => (await import('./http.js')).httpFront,
  overloadReply: (config) => (config.sslKeyFile !== undefined || config.http2 ? null : HTTP_REPLY),
  describe: (config, address) => where(config.sslKeyFile !== undefined ? 'https' : 'http', config, address),
};

const fastcgiFront: FrontDef = {
  load: async () => (await import('./fastcgi.js')).fastcgiFront,
  overloadReply: () => FASTCGI_REPLY,
  describe: (config, address) => where('fcgi', config, address),
};

const scgiFront: FrontDef = {
  load: async () => (await import('./scgi.js')).scgiFront,
  overloadReply: () => SCGI_REPLY,
  describe: (config, address) => where('scgi', config, address),
};

const autoFront: FrontDef = {
  load: async () => (await import('./auto.js')).autoFront,
  overloadReply: () => null,
  describe: (config, address) => where('auto', config, address),
};

/**
 * Fronts by `protocol`. `undefined` = the protocol parses and validates but is not built: starting with it
 * answers TSGI_ERR_NOT_YET naming the option.
 */
export const FRONTS: Record<Protocol, FrontDef | undefined> = {
  http: httpFront,
  fastcgi: fastcgiFront,
  scgi: scgiFront,
  auto: autoFront,
};

/** Plug in a front for a protocol (replacing a built-in one). */
export function registerFront(protocol: Protocol, def: FrontDef): void {
  FRONTS[protocol] = def;
}

/** The front for `protocol`; TSGI_ERR_NOT_YET when it is not built. */
export function getFront(protocol: Protocol): FrontDef {
  const def = FRONTS[protocol];
  if (def === undefined) {
    const built = (Object.keys(FRONTS) as Protocol[]).filter((p) => FRONTS[p] !== undefined);
    throw tsgiError('TSGI_ERR_NOT_YET', { feature: `protocol = ${protocol}`, instead: `use one of the protocols built: ${built.join(', ')}` });
  }
  return def;
}

/** Start the front of `protocol` on this process, listening where `config` says. */
export async function startFront(protocol: Protocol, dispatcher: Dispatcher, config: ServerConfig, log: ErrorLog): Promise<Front> {
  return (await getFront(protocol).load()).start(dispatcher, config, log);
}
