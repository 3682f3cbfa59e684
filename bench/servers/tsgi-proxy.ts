/**
 * Bench server: examples/hello on the built-in server, inline, in reverse-proxy mode. `wrap`: the
 * trusted-proxy dispatcher (what every CLI listener has); `pp`: that plus `proxyProtocol` on the listener.
 * Prints {"url"} when ready.
 */
import { startHttpServer } from '../../adapters/http/server.js';
import { TrustedProxyDispatcher } from '../../adapters/proxy/dispatcher.js';
import { app } from '../../examples/hello/app.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { ready, untilSignal } from '../measure.js';

const log = new ErrorLog();
const pp = process.argv[2] === 'pp';
const dispatcher = new TrustedProxyDispatcher(new InlineDispatcher(app, { log }), { log });
const server = await startHttpServer(dispatcher, { port: 0, log, proxyProtocol: pp ? { log } : undefined });
ready(server.url);
await untilSignal();
await server.close(1000);
process.exit(0);
