/**
 * `protocol = fastcgi`: the FastCGI server configured from a listener's settings. When fd 0 is a listening
 * socket the process was started the FastCGI way (Apache mod_fcgid, lighttpd `bin-path`, spawn-fcgi): that
 * socket is served and socketHost/socketPort are ignored, as flup and libfcgi do.
 */
import { createFastcgiHandler, FCGI_LISTENSOCK_FILENO, isInheritedListenSocket, startFastcgiServer, type FastcgiOptions } from '../../adapters/fastcgi/server.js';
import type { ServerConfig } from '../config/options.js';
import type { ErrorLog } from '../core/log.js';
import { proxyProtocolOptions } from './proxy.js';
import type { FrontModule } from './types.js';
import { limitsOf } from './limits.js';
import { handlerFront } from './worker-front.js';

/** The FastCGI settings of a listener (not where to listen). */
export function fastcgiOptions(c: ServerConfig, log: ErrorLog): FastcgiOptions {
  return {
    // '' is the option's default ('not set'): keep the web server's SCRIPT_NAME/PATH_INFO split.
    scriptName: c.scriptName === '' ? undefined : c.scriptName,
    idleTimeout: Math.round(c.idleTimeout * 1000),
    bodyTimeout: Math.round(c.bodyTimeout * 1000),
    maxParamsBytes: c.limitParamsSize,
    limits: limitsOf(c),
    headerTimeout: Math.round(c.headerTimeout * 1000),
    log,
  };
}

let fd0Taken = false;

/** The FastCGI front. */
export const fastcgiFront: FrontModule = {
  async start(dispatcher, c, log) {
    // Only one listener can be the inherited socket: the first FastCGI front takes it ([server]); the other
    // [server:NAME] listeners bind their own addresses.
    const inherited = !fd0Taken && c.socketFile === undefined && c.socketFd === undefined && isInheritedListenSocket();
    if (inherited) fd0Taken = true;
    const where = inherited ? { fd: FCGI_LISTENSOCK_FILENO } : c.socketFd !== undefined ? { fd: c.socketFd } : c.socketFile !== undefined ? { socketFile: c.socketFile } : { host: c.socketHost, port: c.socketPort };
    const server = await startFastcgiServer(dispatcher, { ...where, backlog: c.socketQueueSize, ...fastcgiOptions(c, log), proxyProtocol: proxyProtocolOptions(c, log) });
    const url = inherited ? 'fd:0' : c.socketFd !== undefined ? `fd://${c.socketFd}` : c.socketFile !== undefined ? `unix:${c.socketFile}` : server.address;
    return { url, close: (graceMs) => server.close(graceMs) };
  },
  // Under forking, a child gets one connection and serves every request the web server sends on it
  // (FCGI_KEEP_CONN): the child lives as long as that connection.
  async open(dispatcher, c, log) {
    // FastCGI ends a request with records, never with a half-close.
    return handlerFront(createFastcgiHandler(dispatcher, fastcgiOptions(c, log)), proxyProtocolOptions(c, log), { allowHalfOpen: false });
  },
};
