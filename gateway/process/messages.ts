/**
 * What a supervising process (pool primary, forking parent) and its worker processes tell each other over
 * the IPC channel. Plain JSON objects tagged `tsgi` so other messages on the channel (an app's own
 * process.send) never look like ours.
 */
import type { RawMetrics } from '../metrics/registry.js';
import type { MetricsSnapshot } from '../metrics/snapshot.js';

/** One worker's numbers (metrics on): its snapshot and its counters as plain data. */
export interface WorkerReport {
  snapshot: MetricsSnapshot;
  raw: RawMetrics;
}

/** What the in-band status page of a worker asks the supervisor for: the whole pool's numbers. */
export type PoolStatusFormat = 'snapshot' | 'prometheus';

/** Why a worker is asked to (or asks to) go away. */
export type RetireReason = 'signal' | 'reload' | 'maxRequests' | 'timeout' | 'connectionClosed' | 'parentGone';

/** Worker -> supervisor. */
export type WorkerMessage =
  /** The app is loaded, `start` published, the front is accepting. */
  | { tsgi: 'ready' }
  /** The event loop is alive (sent every heartbeat interval while a timeout is set). */
  | { tsgi: 'beat' }
  /** Please start my replacement, then tell me to drain (maxRequests reached, a request timed out). */
  | { tsgi: 'retire'; reason: RetireReason }
  /** The boot failed (the app did not load, a `start` listener threw): the error, then the process exits 1. */
  | { tsgi: 'failed'; code: string; message: string }
  /** I stopped accepting and am finishing in-flight requests. */
  | { tsgi: 'draining'; reason: RetireReason }
  /** Metrics on: my numbers now, the answer to `metrics?` with the same id. */
  | { tsgi: 'metrics'; id: number; report: WorkerReport }
  /** Metrics on: my numbers at exit (the supervisor keeps them: counters of a pool never go down). */
  | { tsgi: 'metrics-final'; report: WorkerReport }
  /** statusPath was requested from me: the whole pool's numbers please (answered by `status`). */
  | { tsgi: 'status?'; id: number; format: PoolStatusFormat };

/** Supervisor -> worker. */
export type SupervisorMessage =
  /** Stop accepting, finish in-flight requests within graceMs, publish graceful/stop/exit, exit 0. */
  | { tsgi: 'drain'; reason: RetireReason; graceMs: number }
  /**
   * Forking: serve the connection sent with this message, then exit. `listener`: the index (in the plan's
   * listeners, `[server]` = 0, the default) of the listener that accepted it: its front serves it.
   * `unready`: the server is stopping (drainDelay), so this child answers readyPath with 503.
   */
  | { tsgi: 'connection'; listener?: number; unready?: boolean }
  /** The server is stopping (drainDelay may still run): answer readyPath with 503 from now on. */
  | { tsgi: 'unready' }
  /** Metrics on: send your numbers (`metrics` with this id). */
  | { tsgi: 'metrics?'; id: number }
  /** The answer to `status?`: the pool's snapshot or Prometheus text, or why there is none. */
  | { tsgi: 'status'; id: number; snapshot?: MetricsSnapshot; prometheus?: { text: string; contentType: string }; error?: string };

/** True when `m` is one of ours. */
export function isTsgiMessage(m: unknown): m is { tsgi: string } {
  return typeof m === 'object' && m !== null && typeof (m as { tsgi?: unknown }).tsgi === 'string';
}
