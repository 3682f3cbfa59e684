/** `protocol = auto`: one listener for HTTP/1.x, h2c, SCGI and FastCGI, configured from a listener's settings. */
import { createAutoHandler, startAutoServer, type AutoHandlerOptions } from '../../adapters/auto/server.js';
import type { ServerConfig } from '../config/options.js';
import type { ErrorLog } from '../core/log.js';
import { fastcgiOptions } from './fastcgi.js';
import { httpServerOptions } from './http.js';
import { proxyProtocolOptions } from './proxy.js';
import { scgiConnectionOptions } from './scgi.js';
import type { FrontModule } from './types.js';
import { handlerFront } from './worker-front.js';
import { frontUrl, listenOptionsOf } from './where.js';

/**
 * The per-protocol settings of a listener (not where to listen): each protocol's side takes the same mapping
 * as its own front (protocol = http, scgi, fastcgi), so a setting reaches every protocol of an auto listener.
 * The mount point and the log are given once, for all three.
 */
export function autoHandlerOptions(c: ServerConfig, log: ErrorLog): AutoHandlerOptions {
  const { host: _h, port: _p, socketFile: _f, fd: _d, backlog: _b, scriptName: _s, ...http } = httpServerOptions(c);
  const { scriptName: _ss, log: _sl, ...scgi } = scgiConnectionOptions(c, log);
  const { scriptName: _fs, log: _fl, ...fastcgi } = fastcgiOptions(c, log);
  return { scriptName: c.scriptName, log, http, scgi, fastcgi };
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
