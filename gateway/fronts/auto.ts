/** `protocol = auto`: one listener for HTTP/1.x, h2c, SCGI and FastCGI, configured from a listener's settings. */
import { createAutoHandler, startAutoServer, type AutoHandlerOptions } from '../../adapters/auto/server.js';
import type { ServerConfig } from '../config/options.js';
import type { ErrorLog } from '../core/log.js';
import { httpServerOptions } from './http.js';
import { proxyProtocolOptions } from './proxy.js';
import type { FrontModule } from './types.js';
import { limitsOf } from './limits.js';
import { handlerFront } from './worker-front.js';
import { frontUrl, listenOptionsOf } from './where.js';

/** The per-protocol settings of a listener (not where to listen). Durations in the config are seconds. */
export function autoHandlerOptions(c: ServerConfig, log: ErrorLog): AutoHandlerOptions {
  const ms = (s: number): number => Math.round(s * 1000);
  // The HTTP side takes the built-in server's options from the same mapping as protocol = http, less where to listen.
  const { host: _h, port: _p, socketFile: _f, fd: _d, backlog: _b, scriptName: _s, ...http } = httpServerOptions(c);
  return {
    scriptName: c.scriptName,
    log,
    http,
    scgi: { headerTimeout: ms(c.headerTimeout), idleTimeout: ms(c.idleTimeout), bodyTimeout: ms(c.bodyTimeout), maxHeaderBytes: c.limitParamsSize, limits: limitsOf(c) },
    fastcgi: { idleTimeout: ms(c.idleTimeout), bodyTimeout: ms(c.bodyTimeout), maxParamsBytes: c.limitParamsSize, limits: limitsOf(c) },
  };
}

/** The auto front. */
export const autoFront: FrontModule = {
  async start(dispatcher, c, log) {
    const server = await startAutoServer(dispatcher, {
      ...listenOptionsOf(c),
      ...autoHandlerOptions(c, log),
      proxyProtocol: proxyProtocolOptions(c, log),
    });
    return { url: frontUrl(c, 'auto', server.url), close: (graceMs) => server.close(graceMs) };
  },
  async open(dispatcher, c, log) {
    // SCGI and FastCGI peers may shut down their sending side (as startAutoServer's listener allows).
    return handlerFront(await createAutoHandler(dispatcher, autoHandlerOptions(c, log)), proxyProtocolOptions(c, log), { allowHalfOpen: true });
  },
};
