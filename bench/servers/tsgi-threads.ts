/**
 * Bench server: an app on the built-in server in a chosen concurrency model. Prints {"url"} when ready.
 *
 *     node dist/bench/servers/tsgi-threads.js MODE SIZE APP
 *
 * MODE: single | pool | perRequest; SIZE: threads (ignored for single); APP: `MODULE[:EXPORT]`.
 * BENCH_STATS=1: print the pool's stats (batches, take-backs) to stderr on SIGTERM.
 * BENCH_HANDOFF_WAIT_MS=N: how long an idle thread waits for its next batch (gateway/threads/handoff.ts; 0: never).
 */
import { startHttpServer } from '../../adapters/http/server.js';
import { loadApp } from '../../gateway/app-loader.js';
import { InlineDispatcher, type Dispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { ThreadPoolDispatcher } from '../../gateway/threads/thread-pool.js';
import { ready, untilSignal } from '../measure.js';

const [mode = 'single', size = '4', appSpec = 'dist/examples/hello/app.js'] = process.argv.slice(2);
const log = new ErrorLog();
let dispatcher: Dispatcher;
if (mode === 'single') dispatcher = new InlineDispatcher(await loadApp(appSpec), { log });
else {
  const pool = new ThreadPoolDispatcher({ app: appSpec, mode: mode === 'pool' ? 'pool' : 'perRequest', size: Number(size), maxQueue: 4096, log, handoffWaitMs: process.env.BENCH_HANDOFF_WAIT_MS === undefined ? undefined : Number(process.env.BENCH_HANDOFF_WAIT_MS) });
  await pool.start();
  dispatcher = pool;
}
const server = await startHttpServer(dispatcher, { port: 0, log });
ready(server.url);
await untilSignal();
if (process.env.BENCH_STATS === '1' && dispatcher instanceof ThreadPoolDispatcher) console.error(JSON.stringify(dispatcher.stats()));
await server.close(1000);
await dispatcher.close();
process.exit(0);
