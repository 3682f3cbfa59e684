/** The HTTP front in a worker process: the built-in server, not listening (imported only by workers that serve HTTP). */
import type net from 'node:net';
import { httpServerOptions } from '../../adapters/http/front.js';
import { startHttpServer } from '../../adapters/http/server.js';
import { proxyProtocolOptions } from '../../adapters/proxy/front.js';
import type { ServerConfig } from '../config/options.js';
import type { Dispatcher } from '../dispatch.js';
import type { ErrorLog } from '../log.js';
import type { OpenFront } from './fronts.js';
import { netServerFront } from './open-front.js';

/** Open the built-in HTTP server configured from `[server]`, without listening. */
export async function openHttpFront(dispatcher: Dispatcher, config: ServerConfig, log: ErrorLog): Promise<OpenFront> {
  const server = await startHttpServer(dispatcher, { ...httpServerOptions(config), log, listen: false, proxyProtocol: proxyProtocolOptions(config, log) });
  return netServerFront(server.fastify.server as unknown as net.Server);
}
