/**
 * `protocol = fastcgi` for gateway/serve.ts: the FastCGI server started from the `[server]` section.
 * When fd 0 is a listening socket the process was started the FastCGI way (Apache mod_fcgid, lighttpd
 * `bin-path`, spawn-fcgi): that socket is served and socketHost/socketPort are ignored, as flup and libfcgi do.
 */
import type { Dispatcher } from '../../gateway/dispatch.js';
import type { ServerConfig } from '../../gateway/config/options.js';
import type { ErrorLog } from '../../gateway/log.js';
import { proxyProtocolOptions } from '../proxy/front.js';
import { FCGI_LISTENSOCK_FILENO, isInheritedListenSocket, startFastcgiServer, type FastcgiOptions } from './server.js';

/** The FastCGI settings of the `[server]` section (not where to listen). Also used by worker processes. */
export function fastcgiOptions(c: ServerConfig, log: ErrorLog): FastcgiOptions {
  return {
    // '' is the option's default ('not set'): keep the web server's SCRIPT_NAME/PATH_INFO split.
    scriptName: c.scriptName === '' ? undefined : c.scriptName,
    idleTimeout: Math.round(c.idleTimeout * 1000),
    log,
  };
}

let fd0Taken = false;

/** Start the FastCGI front where the config says (or on the inherited fd 0). Durations in the config are seconds. */
export async function startFastcgiFront(dispatcher: Dispatcher, c: ServerConfig, log: ErrorLog): Promise<{ url: string; close(graceMs: number): Promise<void> }> {
  // Only one listener can be the inherited socket: the first FastCGI front takes it ([server]); the other
  // [server:NAME] listeners bind their own addresses.
  const inherited = !fd0Taken && c.socketFile === undefined && isInheritedListenSocket();
  if (inherited) fd0Taken = true;
  const where = inherited ? { fd: FCGI_LISTENSOCK_FILENO } : c.socketFile !== undefined ? { socketFile: c.socketFile } : { host: c.socketHost, port: c.socketPort };
  const server = await startFastcgiServer(dispatcher, {
    ...where,
    backlog: c.socketQueueSize,
    ...fastcgiOptions(c, log),
    proxyProtocol: proxyProtocolOptions(c, log),
  });
  const url = inherited ? 'fd:0' : c.socketFile !== undefined ? `unix:${c.socketFile}` : server.address;
  return { url, close: (graceMs) => server.close(graceMs) };
}
