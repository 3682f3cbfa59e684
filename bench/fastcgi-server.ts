/**
 * Bench server: examples/hello over FastCGI, inline (single mode), for nginx fastcgi_pass in front.
 * Prints {"url": "fcgi://127.0.0.1:PORT"} when ready (FASTCGI_PORT picks the port; default a free one).
 */
import { startFastcgiServer } from '../adapters/fastcgi/server.js';
import { app } from '../examples/hello/app.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog } from '../gateway/core/log.js';
import { ready, untilSignal } from './measure.js';

const log = new ErrorLog();
const server = await startFastcgiServer(new InlineDispatcher(app, { log }), { port: Number(process.env.FASTCGI_PORT ?? '0'), log });
ready(server.address);
await untilSignal();
await server.close(1000);
process.exit(0);
