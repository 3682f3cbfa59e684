/**
 * `protocol = scgi` for gateway/serve.ts: the SCGI server started from the `[server]` section. Plug in
 * with `scgi: startScgiFront` in FRONTS (or `registerFront('scgi', startScgiFront)`).
 */
import type { Dispatcher } from '../../gateway/dispatch.js';
import type { ServerConfig } from '../../gateway/config/options.js';
import type { ErrorLog } from '../../gateway/log.js';
import type { ScgiConnectionOptions } from './connection.js';
import { startScgiServer } from './server.js';
import { proxyProtocolOptions } from '../proxy/front.js';

/** The SCGI settings of the `[server]` section (not where to listen). Also used by worker processes. */
export function scgiConnectionOptions(c: ServerConfig, log: ErrorLog): ScgiConnectionOptions {
  return {
    // '' is the option's default ('not set'): keep the web server's SCRIPT_NAME/PATH_INFO split. Passed on as
    // '', the core would re-split at the root and an app behind `SCRIPT_NAME /app` would see PATH_INFO /app/x.
    scriptName: c.scriptName === '' ? undefined : c.scriptName,
    headerTimeout: Math.round(c.headerTimeout * 1000),
    idleTimeout: Math.round(c.idleTimeout * 1000),
    log,
  };
}

/** Start the SCGI front where the config says. Durations in the config are seconds. */
export async function startScgiFront(dispatcher: Dispatcher, c: ServerConfig, log: ErrorLog): Promise<{ url: string; close(graceMs: number): Promise<void> }> {
  const server = await startScgiServer(dispatcher, {
    host: c.socketHost,
    port: c.socketPort,
    socketFile: c.socketFile,
    backlog: c.socketQueueSize,
    ...scgiConnectionOptions(c, log),
    proxyProtocol: proxyProtocolOptions(c, log),
  });
  return { url: c.socketFile !== undefined ? `unix:${server.url}` : `scgi://${server.url}`, close: (graceMs) => server.close(graceMs) };
}
