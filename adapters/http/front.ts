/**
 * `protocol = http` from the `[server]` section: the built-in server's options from the config, and the
 * starter gateway/serve.ts puts in FRONTS. Worker processes (gateway/process) build the same server from
 * httpServerOptions() without listening.
 */
import type { ServerConfig } from '../../gateway/config/options.js';
import type { Dispatcher } from '../../gateway/dispatch.js';
import type { ErrorLog } from '../../gateway/log.js';
import { startHttpServer, type HttpServerOptions } from './server.js';
import { proxyProtocolOptions } from '../proxy/front.js';

/** HttpServerOptions from the `[server]` section. Times in the config are seconds; the server takes ms. */
export function httpServerOptions(c: ServerConfig): HttpServerOptions {
  const ms = (s: number): number => Math.round(s * 1000);
  return {
    host: c.socketHost,
    port: c.socketPort,
    socketFile: c.socketFile,
    backlog: c.socketQueueSize,
    sslKeyFile: c.sslKeyFile,
    sslCertificateFile: c.sslCertificateFile,
    http2: c.http2,
    reverseDNS: c.reverseDNS,
    headerTimeout: ms(c.headerTimeout),
    idleTimeout: ms(c.idleTimeout),
    keepAliveTimeout: ms(c.keepAliveTimeout),
    requestTimeout: ms(c.requestTimeout),
    scriptName: c.scriptName,
  };
}

/** Start the built-in HTTP server where the config says. */
export async function startHttpFront(dispatcher: Dispatcher, c: ServerConfig, log: ErrorLog): Promise<{ url: string; close(graceMs: number): Promise<void> }> {
  const server = await startHttpServer(dispatcher, { ...httpServerOptions(c), log, proxyProtocol: proxyProtocolOptions(c, log) });
  return { url: c.socketFile !== undefined ? `unix:${server.url}` : server.url, close: (graceMs) => server.close(graceMs) };
}
