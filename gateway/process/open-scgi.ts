/** The SCGI front in a worker process (imported only by workers that serve SCGI): one request per connection. */
import { scgiConnectionOptions } from '../../adapters/scgi/front.js';
import { handleScgiConnection } from '../../adapters/scgi/connection.js';
import { ConnectionTracker } from '../../adapters/scgi/tracker.js';
import type { ServerConfig } from '../config/options.js';
import type { Dispatcher } from '../dispatch.js';
import type { ErrorLog } from '../log.js';
import type { OpenFront } from './fronts.js';
import { socketFront, withProxyProtocol } from './open-front.js';
import { proxyProtocolOptions } from '../../adapters/proxy/front.js';

/** Open the SCGI front configured from `[server]`, without listening. */
export async function openScgiFront(dispatcher: Dispatcher, config: ServerConfig, log: ErrorLog): Promise<OpenFront> {
  const opts = scgiConnectionOptions(config, log);
  const tracker = new ConnectionTracker();
  return socketFront(
    {
      handle: withProxyProtocol(proxyProtocolOptions(config, log), (socket) => void tracker.add(handleScgiConnection(socket, dispatcher, opts))),
      close: (graceMs) => tracker.drain(graceMs, (n) => log.log('warn', `grace period of ${graceMs} ms over: closing ${n} SCGI connection(s)`)),
      get connections() {
        return tracker.size;
      },
    },
    // A web server may shut down its sending side after the request and still read the response.
    { allowHalfOpen: true },
  );
}
