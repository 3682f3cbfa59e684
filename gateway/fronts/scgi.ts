/** `protocol = scgi`: the SCGI server configured from a listener's settings (one request per connection). */
import { createScgiHandler, type ScgiConnectionOptions } from '../../adapters/scgi/connection.js';
import { startScgiServer } from '../../adapters/scgi/server.js';
import type { ServerConfig } from '../config/options.js';
import type { ErrorLog } from '../core/log.js';
import { proxyProtocolOptions } from './proxy.js';
import type { FrontModule } from './types.js';
import { limitsOf } from './limits.js';
import { handlerFront } from './worker-front.js';
import { frontUrl, listenOptionsOf } from './where.js';

/** The SCGI settings of a listener (not where to listen). Durations in the config are seconds. */
export function scgiConnectionOptions(c: ServerConfig, log: ErrorLog): ScgiConnectionOptions {
  return {
    // '' is the option's default ('not set'): keep the web server's SCRIPT_NAME/PATH_INFO split. Passed on as
    // '', the core would re-split at the root and an app behind `SCRIPT_NAME /app` would see PATH_INFO /app/x.
    scriptName: c.scriptName === '' ? undefined : c.scriptName,
    headerTimeout: Math.round(c.headerTimeout * 1000),
    idleTimeout: Math.round(c.idleTimeout * 1000),
    bodyTimeout: Math.round(c.bodyTimeout * 1000),
    maxHeaderBytes: c.limitParamsSize,
    limits: limitsOf(c),
    log,
  };
}

/** The SCGI front. */
export const scgiFront: FrontModule = {
  async start(dispatcher, c, log) {
    const server = await startScgiServer(dispatcher, {
      ...listenOptionsOf(c),
      ...scgiConnectionOptions(c, log),
      proxyProtocol: proxyProtocolOptions(c, log),
    });
    return { url: frontUrl(c, 'scgi', server.url), close: (graceMs) => server.close(graceMs) };
  },
  async open(dispatcher, c, log) {
    // A web server may shut down its sending side after the request and still read the response.
    return handlerFront(createScgiHandler(dispatcher, scgiConnectionOptions(c, log)), proxyProtocolOptions(c, log), { allowHalfOpen: true });
  },
};
