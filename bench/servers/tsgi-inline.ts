/** Bench server: examples/hello on the built-in server, inline (single mode). Prints {"url"} when ready. */
import { startHttpServer } from '../../adapters/http/server.js';
import { app } from '../../examples/hello/app.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { ready, untilSignal } from '../measure.js';

const log = new ErrorLog();
const server = await startHttpServer(new InlineDispatcher(app, { log }), { port: 0, log });
ready(server.url);
await untilSignal();
await server.close(1000);
process.exit(0);
