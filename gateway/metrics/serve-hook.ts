/**
 * How serve() applies the metrics options (gateway/config/metrics-options.ts): the configured front gets a metered
 * dispatcher (statusPath answered on it), and the metrics listener (metricsListen) starts and stops with it.
 */
import type { Dispatcher } from '../core/dispatch.js';
import type { ErrorLog } from '../core/log.js';
import { parseMetricsListen } from '../config/metrics-listen.js';
import { withMetrics } from './metered.js';
import { DEFAULT_STATUS_ALLOW } from '../config/metrics-options.js';
import { startMetricsServer } from './server.js';

/** The part of the `[server]` section the metrics read. */
export interface MetricsSettings {
  statusPath?: string;
  statusAllow?: string;
  metricsListen?: string;
}

/** A listening front, as serve.ts's Front. */
interface ClosableFront {
  readonly url: string;
  close(graceMs: number): Promise<void>;
}

/** True when the config asks for metrics at all. */
export function metricsWanted(s: MetricsSettings): boolean {
  return s.statusPath !== undefined || s.metricsListen !== undefined;
}

/**
 * Throw TSGI_ERR_NOT_YET when the metrics options ask for something a concurrency model cannot serve yet.
 * Every model serves them now: under processPool and forking the primary collects its workers' numbers over
 * IPC (gateway/process/pool-metrics.ts). Kept as the one place such a refusal goes.
 */
export function checkMetricsMode(_s: MetricsSettings, _mode: string): void {}

/**
 * Start a front for `dispatcher` with the metrics the settings ask for: the dispatcher metered (statusPath
 * answered on the front) and the metrics listener started; closing the front closes the listener too.
 * Without metrics settings this is `start(dispatcher)`.
 */
export async function startFrontWithMetrics<F extends ClosableFront>(s: MetricsSettings, log: ErrorLog, dispatcher: Dispatcher, start: (d: Dispatcher) => Promise<F>): Promise<F> {
  if (!metricsWanted(s)) return start(dispatcher);
  const metered = withMetrics(dispatcher, { statusPath: s.statusPath, allow: s.statusAllow ?? DEFAULT_STATUS_ALLOW, log });
  const front = await start(metered);
  if (s.metricsListen === undefined) return front;
  let listener;
  try {
    listener = await startMetricsServer(parseMetricsListen(s.metricsListen), metered);
  } catch (err) {
    await front.close(0);
    throw err;
  }
  log.log('info', `metrics listening on ${listener.url}`);
  const close = front.close.bind(front);
  return Object.assign(front, {
    async close(graceMs: number) {
      await Promise.all([close(graceMs), listener.close()]);
    },
  });
}
