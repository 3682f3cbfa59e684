/** protocol=auto in a worker process (imported only by workers that serve it): sniff, then HTTP, SCGI or FastCGI. */
import { autoHandlerOptions } from '../../adapters/auto/front.js';
import { createAutoHandler } from '../../adapters/auto/server.js';
import type { ServerConfig } from '../config/options.js';
import type { Dispatcher } from '../dispatch.js';
import type { ErrorLog } from '../log.js';
import type { OpenFront } from './fronts.js';
import { socketFront, withProxyProtocol } from './open-front.js';
import { proxyProtocolOptions } from '../../adapters/proxy/front.js';

/** Open the auto front configured from `[server]`, without listening. */
export async function openAutoFront(dispatcher: Dispatcher, config: ServerConfig, log: ErrorLog): Promise<OpenFront> {
  const handler = await createAutoHandler(dispatcher, autoHandlerOptions(config, log));
  return socketFront(
    {
      handle: withProxyProtocol(proxyProtocolOptions(config, log), (socket) => void handler.handleConnection(socket)),
      close: (graceMs) => handler.close(graceMs),
      get connections() {
        return handler.connections;
      },
    },
    // SCGI and FastCGI peers may shut down their sending side (as startAutoServer's listener allows).
    { allowHalfOpen: true },
  );
}
