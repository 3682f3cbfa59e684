/**
 * The SCGI server: a `net.Server` whose every connection is one SCGI request (connection.ts). Mirrors
 * adapters/http/server.ts: TCP or a unix socket, a backlog, timeouts on by default, `close(graceMs)`.
 * Point nginx `scgi_pass`, Apache `mod_proxy_scgi` or lighttpd `mod_scgi` at it.
 */
import net from 'node:net';
import type { Dispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { createScgiHandler, type ScgiConnectionOptions } from './connection.js';
import { stopAccepting } from '../connections/drain.js';
import { listen, type ListenOptions } from '../listen.js';
import { proxyProtocolReader, type ProxyProtocolOptions } from '../proxy/accept.js';

/** Options of the SCGI server: where to listen plus the per-connection settings. */
export interface ScgiServerOptions extends ListenOptions, ScgiConnectionOptions {
  /** Read a PROXY protocol header off every connection first (adapters/proxy/accept.ts). */
  proxyProtocol?: ProxyProtocolOptions;
}

/** A listening SCGI server. */
export interface ScgiServer {
  readonly server: net.Server;
  /** `127.0.0.1:4000`-style address, or the unix socket path. */
  readonly url: string;
  /** The bound TCP port (0 for a unix socket). */
  readonly port: number;
  /** Connections open now. */
  readonly connections: number;
  /** Stop accepting; idle connections close now, requests in flight get `graceMs` to finish, then are cut. */
  close(graceMs?: number): Promise<void>;
}

/** Default SCGI port (what the scgi Python package and many configs use). */
export const DEFAULT_SCGI_PORT = 4000;

/** Create and start an SCGI server for a dispatcher. */
export async function startScgiServer(dispatcher: Dispatcher, opts: ScgiServerOptions = {}): Promise<ScgiServer> {
  const log = opts.log ?? new ErrorLog();
  const connOpts: ScgiConnectionOptions = { ...opts, log };
  const handler = createScgiHandler(dispatcher, connOpts);
  // allowHalfOpen: a web server may shut down its sending side after the request and still read the response.
  const serve = (socket: net.Socket): void => void handler.handleConnection(socket);
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, opts.proxyProtocol === undefined ? serve : proxyProtocolReader(opts.proxyProtocol, (s) => (serve(s), s.resume())));
  server.on('error', (err) => log.log('error', 'SCGI listener error', err));
  const { port, url } = await listen(server, opts, DEFAULT_SCGI_PORT);

  let closing: Promise<void> | null = null;
  return {
    server,
    url,
    port,
    get connections() {
      return handler.connections;
    },
    close(graceMs = 30_000): Promise<void> {
      if (closing !== null) return closing;
      const stopped = stopAccepting(server);
      closing = handler.close(graceMs).then(() => stopped);
      return closing;
    },
  };
}
