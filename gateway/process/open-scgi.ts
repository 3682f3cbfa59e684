/** The SCGI front in a worker process (imported only by workers that serve SCGI): one request per connection. */
import { scgiConnectionOptions } from '../../adapters/scgi/front.js';
import { createScgiHandler } from '../../adapters/scgi/connection.js';
import type { ServerConfig } from '../config/options.js';
import type { Dispatcher } from '../dispatch.js';
import type { ErrorLog } from '../log.js';
import type { OpenFront } from './fronts.js';
import { socketFront } from './open-front.js';

/** Open the SCGI front configured from `[server]`, without listening. */
export async function openScgiFront(dispatcher: Dispatcher, config: ServerConfig, log: ErrorLog): Promise<OpenFront> {
  const opts = scgiConnectionOptions(config, log);
  const handler = createScgiHandler(dispatcher, opts);
  return socketFront(
    {
      handle: (socket) => void handler.handleConnection(socket),
      close: (graceMs) => handler.close(graceMs),
      get connections() {
        return handler.connections;
      },
    },
    // A web server may shut down its sending side after the request and still read the response.
    { allowHalfOpen: true },
  );
}
