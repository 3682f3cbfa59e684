/**
 * `protocol = http`: the built-in HTTP/1.1, HTTPS and HTTP/2 server configured from a listener's settings.
 * Times in the config are seconds; the adapter takes ms.
 */
import { startHttpServer, type HttpServerOptions } from '../../adapters/http/server.js';
import type { ServerConfig } from '../config/options.js';
import { proxyProtocolOptions } from './proxy.js';
import type { FrontModule } from './types.js';
import { limitsOf } from './limits.js';
import { netServerFront } from './worker-front.js';

/** HttpServerOptions from a listener's settings. protocol=auto takes the same mapping for its HTTP side. */
export function httpServerOptions(c: ServerConfig): HttpServerOptions {
  const ms = (s: number): number => Math.round(s * 1000);
  return {
    host: c.socketHost,
    port: c.socketPort,
    socketFile: c.socketFile,
    fd: c.socketFd,
    backlog: c.socketQueueSize,
    sslKeyFile: c.sslKeyFile,
    sslCertificateFile: c.sslCertificateFile,
    http2: c.http2,
    reverseDNS: c.reverseDNS,
    headerTimeout: ms(c.headerTimeout),
    idleTimeout: ms(c.idleTimeout),
    keepAliveTimeout: ms(c.keepAliveTimeout),
    requestTimeout: ms(c.requestTimeout),
    bodyTimeout: ms(c.bodyTimeout),
    limits: limitsOf(c),
    scriptName: c.scriptName,
    middlewareModules: c.middleware === '' ? undefined : c.middleware.split(/\s*,\s*/),
  };
}

/** The HTTP front. */
export const httpFront: FrontModule = {
  async start(dispatcher, c, log) {
    const server = await startHttpServer(dispatcher, { ...httpServerOptions(c), log, proxyProtocol: proxyProtocolOptions(c, log) });
    return { url: c.socketFd !== undefined ? `fd://${c.socketFd}` : c.socketFile !== undefined ? `unix:${server.url}` : server.url, close: (graceMs) => server.close(graceMs) };
  },
  async open(dispatcher, c, log) {
    const server = await startHttpServer(dispatcher, { ...httpServerOptions(c), log, listen: false, proxyProtocol: proxyProtocolOptions(c, log) });
    return netServerFront(server);
  },
};
