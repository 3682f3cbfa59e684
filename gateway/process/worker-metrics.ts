/**
 * Metrics in a worker process (processPool, forking), imported only when statusPath or metricsListen is
 * set. The worker meters its dispatcher as a single process does and answers the supervisor's `metrics?`
 * with its numbers; the supervisor adds up every worker's (pool-metrics.ts) and serves metricsListen.
 *
 * statusPath on the app's own port (on any listener that sets it): whichever worker takes the request asks
 * the supervisor for the whole pool's numbers (`status?`) rather than answering with its own, so the page
 * does not depend on which worker the kernel handed the connection to.
 */
import { tsgiError } from '../../app-api/errors.js';
import type { ServerConfig } from '../config/options.js';
import type { Dispatcher } from '../core/dispatch.js';
import type { ErrorLog } from '../core/log.js';
import type { StatusSource } from '../metrics/endpoints.js';
import { withMetrics, type MeteredDispatcher } from '../metrics/metered.js';
import type { MetricsSnapshot } from '../metrics/snapshot.js';
import { statusRoute } from '../metrics/status-route.js';
import { isTsgiMessage, type PoolStatusFormat, type SupervisorMessage, type WorkerMessage, type WorkerReport } from './messages.js';

/** How long a status page waits for the supervisor's numbers. */
const POOL_ANSWER_MS = 10_000;

/** A worker's metrics. */
export interface WorkerMetrics {
  /**
   * What each listener's front dispatches to, in the order of the listeners given to meterWorker: one
   * metered dispatcher counts them all; a listener with statusPath answers it there (pool numbers).
   */
  readonly dispatchers: readonly Dispatcher[];
  /** This worker's numbers now. */
  report(): WorkerReport;
  /** Send the final numbers to the supervisor (before exiting); resolves once sent, or after a second. */
  sendFinal(): Promise<void>;
}

function send(message: WorkerMessage): void {
  if (process.connected) process.send!(message);
}

/** The whole pool's numbers, asked of the supervisor. */
function poolSource(): StatusSource {
  let nextId = 1;
  const waiting = new Map<number, (m: Extract<SupervisorMessage, { tsgi: 'status' }>) => void>();
  process.on('message', (m: unknown) => {
    if (!isTsgiMessage(m) || (m as SupervisorMessage).tsgi !== 'status') return;
    const answer = m as Extract<SupervisorMessage, { tsgi: 'status' }>;
    waiting.get(answer.id)?.(answer);
  });
  const ask = (format: PoolStatusFormat): Promise<Extract<SupervisorMessage, { tsgi: 'status' }>> =>
    new Promise((resolve, reject) => {
      if (!process.connected) return reject(tsgiError('TSGI_ERR_TIMEOUT', { problem: 'the supervisor process is gone, so no pool numbers will come', limit: 'nothing: restart tsgi' }));
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(tsgiError('TSGI_ERR_TIMEOUT', { problem: `the supervisor did not send the pool's numbers within ${POOL_ANSWER_MS} ms`, limit: 'nothing (the wait is fixed): a busy supervisor answers on the next scrape' }));
      }, POOL_ANSWER_MS);
      waiting.set(id, (answer) => {
        clearTimeout(timer);
        waiting.delete(id);
        if (answer.error !== undefined) reject(new Error(answer.error));
        else resolve(answer);
      });
      send({ tsgi: 'status?', id, format });
    });
  return {
    async snapshot(): Promise<MetricsSnapshot> {
      return (await ask('snapshot')).snapshot!;
    },
    async prometheus() {
      return (await ask('prometheus')).prometheus!;
    },
  };
}

/**
 * Meter `inner` for the supervisor, and answer each listener's statusPath (when set) with the whole pool's
 * numbers, for that listener's statusAllow, as a single process with several listeners does
 * (gateway/listeners.ts). `listeners`: the settings of every listener the worker serves, `[server]` first.
 */
export function meterWorker(inner: Dispatcher, listeners: readonly ServerConfig[], log: ErrorLog): WorkerMetrics {
  const metered: MeteredDispatcher = withMetrics(inner, { allow: listeners[0].statusAllow, log });
  let pool: StatusSource | undefined;
  const dispatchers = listeners.map((l) => {
    if (l.statusPath === undefined) return metered;
    pool ??= poolSource(); // one message handler for all the status pages
    return statusRoute(pool, metered, { statusPath: l.statusPath, allow: l.statusAllow, log });
  });
  const report = (): WorkerReport => ({ snapshot: metered.snapshot(), raw: metered.raw() });
  process.on('message', (m: unknown) => {
    if (!isTsgiMessage(m) || (m as SupervisorMessage).tsgi !== 'metrics?') return;
    send({ tsgi: 'metrics', id: (m as Extract<SupervisorMessage, { tsgi: 'metrics?' }>).id, report: report() });
  });
  return {
    // The worker closes `inner` itself when it drains; the wrappers hold nothing to close.
    dispatchers,
    report,
    sendFinal(): Promise<void> {
      if (!process.connected) return Promise.resolve();
      return new Promise<void>((resolve) => {
        process.send!({ tsgi: 'metrics-final', report: report() } satisfies WorkerMessage, undefined, {}, () => resolve());
        setTimeout(resolve, 1000).unref();
      });
    },
  };
}
