/**
 * `protocol = auto` for gateway/serve.ts: one listener for HTTP/1.x, h2c, SCGI and FastCGI, started from
 * the `[server]` section. Plug in with `auto: startAutoFront` in FRONTS (or `registerFront('auto', ...)`).
 */
import type { Dispatcher } from '../../gateway/dispatch.js';
import type { ServerConfig } from '../../gateway/config/options.js';
import type { ErrorLog } from '../../gateway/log.js';
import { httpServerOptions } from '../http/front.js';
import { startAutoServer, type AutoHandlerOptions } from './server.js';
import { proxyProtocolOptions } from '../proxy/front.js';

/** The per-protocol settings of the `[server]` section (not where to listen). Also used by worker processes. */
export function autoHandlerOptions(c: ServerConfig, log: ErrorLog): AutoHandlerOptions {
  const ms = (s: number): number => Math.round(s * 1000);
  // The HTTP side takes the built-in server's options from the same mapping as protocol = http, less where to listen.
  const { host: _h, port: _p, socketFile: _f, backlog: _b, scriptName: _s, ...http } = httpServerOptions(c);
  return {
    scriptName: c.scriptName,
    log,
    http,
    scgi: { headerTimeout: ms(c.headerTimeout), idleTimeout: ms(c.idleTimeout) },
    fastcgi: { idleTimeout: ms(c.idleTimeout) },
  };
}

/** Start the auto front where the config says. Durations in the config are seconds. */
export async function startAutoFront(dispatcher: Dispatcher, c: ServerConfig, log: ErrorLog): Promise<{ url: string; close(graceMs: number): Promise<void> }> {
  const server = await startAutoServer(dispatcher, {
    host: c.socketHost,
    port: c.socketPort,
    socketFile: c.socketFile,
    backlog: c.socketQueueSize,
    ...autoHandlerOptions(c, log),
    proxyProtocol: proxyProtocolOptions(c, log),
  });
  return { url: c.socketFile !== undefined ? `unix:${server.url}` : `auto://${server.url}`, close: (graceMs) => server.close(graceMs) };
}
