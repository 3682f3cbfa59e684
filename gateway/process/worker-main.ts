/**
 * Entry point of a worker process (processPool and forking). Started by the supervisor with the plan in
 * TSGI_WORKER_PLAN and an IPC channel; never by hand.
 */
import { isTsgiError } from '../../app-api/errors.js';
import { planFromEnv } from './plan.js';
import { runWorker } from './worker.js';

runWorker(planFromEnv()).catch((err: unknown) => {
  process.stderr.write(`tsgi worker ${process.pid}: ${isTsgiError(err) ? `${err.code}: ` : ''}${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
