/**
 * Bench server: examples/hello over SCGI, inline (single mode), for nginx scgi_pass in front.
 * Prints {"url": "scgi://127.0.0.1:PORT"} when ready.
 */
import { startScgiServer } from '../../adapters/scgi/server.js';
import { app } from '../../examples/hello/app.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { ready, untilSignal } from '../measure.js';

const log = new ErrorLog();
const server = await startScgiServer(new InlineDispatcher(app, { log }), { host: '127.0.0.1', port: 0, log });
ready(`scgi://127.0.0.1:${server.port}`);
await untilSignal();
await server.close(1000);
process.exit(0);
