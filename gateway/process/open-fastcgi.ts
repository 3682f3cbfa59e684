/**
 * The FastCGI front in a worker process (imported only by workers that serve FastCGI). Under forking, a
 * child gets one connection and serves every request the web server sends on it (FCGI_KEEP_CONN): the
 * child lives as long as that connection.
 */
import { fastcgiOptions } from '../../adapters/fastcgi/front.js';
import { createFastcgiHandler } from '../../adapters/fastcgi/server.js';
import type { ServerConfig } from '../config/options.js';
import type { Dispatcher } from '../dispatch.js';
import type { ErrorLog } from '../log.js';
import type { OpenFront } from './fronts.js';
import { socketFront, withProxyProtocol } from './open-front.js';
import { proxyProtocolOptions } from '../../adapters/proxy/front.js';

/** Open the FastCGI front configured from `[server]`, without listening. */
export async function openFastcgiFront(dispatcher: Dispatcher, config: ServerConfig, log: ErrorLog): Promise<OpenFront> {
  const handler = createFastcgiHandler(dispatcher, fastcgiOptions(config, log));
  return socketFront(
    {
      handle: withProxyProtocol(proxyProtocolOptions(config, log), (socket) => void handler.handleConnection(socket)),
      close: (graceMs) => handler.close(graceMs),
      get connections() {
        return handler.connections;
      },
    },
    // As startFastcgiServer: FastCGI ends a request with records, never with a half-close.
    { allowHalfOpen: false },
  );
}
