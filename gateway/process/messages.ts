/**
 * What a supervising process (pool primary, forking parent) and its worker processes tell each other over
 * the IPC channel. Plain JSON objects tagged `tsgi` so other messages on the channel (an app's own
 * process.send) never look like ours.
 */

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
  | { tsgi: 'draining'; reason: RetireReason };

/** Supervisor -> worker. */
export type SupervisorMessage =
  /** Stop accepting, finish in-flight requests within graceMs, publish graceful/stop/exit, exit 0. */
  | { tsgi: 'drain'; reason: RetireReason; graceMs: number }
  /** Forking: serve the connection sent with this message, then exit. */
  | { tsgi: 'connection' };

/** True when `m` is one of ours. */
export function isTsgiMessage(m: unknown): m is { tsgi: string } {
  return typeof m === 'object' && m !== null && typeof (m as { tsgi?: unknown }).tsgi === 'string';
}
