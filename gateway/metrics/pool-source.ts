/**
 * Reading worker and queue state from the dispatcher being metered. A dispatcher with a `stats()` method
 * returning the thread pool's ThreadPoolStats shape (gateway/threads/options.ts) is read as it is; any
 * other dispatcher (inline, a process worker) has one worker, the event loop, busy with whatever requests
 * the metered wrapper sees in flight.
 */
import type { Dispatcher } from '../core/dispatch.js';
import { currentRequest, type WorkerSnapshot } from './snapshot.js';

/**
 * The part of the thread pool's ThreadPoolStats the metrics read, written out here rather than imported:
 * the metrics sit below the concurrency modes that use them, and a type import is an arrow all the same.
 * The pool's stats() satisfies it (metrics-server tests meter a real pool).
 */
export interface PoolStatsLike extends Omit<PoolState, 'workers'> {
  workers: ReadonlyArray<{ slot: number; state: string; requests: number; current: { requestLine: string; startedAt: number } | null }>;
  queueWaitMs: readonly number[];
  counters: { dispatched: number };
}

/** Worker and queue state at one moment. */
export interface PoolState {
  mode: string;
  busy: number;
  idle: number;
  starting: number;
  queueLength: number;
  oldestQueuedMs: number;
  workers: WorkerSnapshot[];
}

/** Reads a dispatcher's pool. */
export interface PoolSource {
  read(now: number): PoolState;
  /** Queue waits (ms) of requests that got a worker since the last call, each returned once. */
  takeNewWaits(): number[];
}

/** True when `d` offers the thread pool's stats(). */
export function hasPoolStats(d: Dispatcher): d is Dispatcher & { stats(): PoolStatsLike } {
  return typeof (d as { stats?: unknown }).stats === 'function';
}

/** A PoolSource over a thread pool's stats(). */
export function threadPoolSource(d: { stats(): PoolStatsLike }): PoolSource {
  let seen = 0; // counters.dispatched at the last takeNewWaits()
  return {
    read(now) {
      const s = d.stats();
      return {
        mode: s.mode,
        busy: s.busy,
        idle: s.idle,
        starting: s.starting,
        queueLength: s.queueLength,
        oldestQueuedMs: s.oldestQueuedMs,
        workers: s.workers.map((w) => ({
          id: `thread ${w.slot}`,
          state: w.state,
          served: w.requests,
          current: w.current === null ? [] : [currentRequest(w.current.requestLine, w.current.startedAt, now)],
        })),
      };
    },
    takeNewWaits() {
      const s = d.stats();
      // queueWaitMs is a ring of the latest samples, so only the newest (dispatched - seen) are new. The
      // wrapper calls this often enough (see SYNC_EVERY in metered.ts) that the ring never laps it.
      const fresh = Math.min(s.counters.dispatched - seen, s.queueWaitMs.length);
      seen = s.counters.dispatched;
      return fresh > 0 ? s.queueWaitMs.slice(s.queueWaitMs.length - fresh) : [];
    },
  };
}

/** One request the wrapper sees in flight. */
export interface InFlightRequest {
  requestLine: string;
  startedAt: number;
}

/** The event loop as the only worker (single mode, or one process of a pool): busy while any request runs. */
export function eventLoopSource(inFlight: () => Iterable<InFlightRequest>, served: () => number): PoolSource {
  return {
    read(now) {
      const current = [...inFlight()].map((r) => currentRequest(r.requestLine, r.startedAt, now));
      const busy = current.length > 0;
      return {
        mode: 'inline',
        busy: busy ? 1 : 0,
        idle: busy ? 0 : 1,
        starting: 0,
        queueLength: 0,
        oldestQueuedMs: 0,
        workers: [{ id: 'event loop', state: busy ? 'busy' : 'idle', served: served() + current.length, current }],
      };
    },
    takeNewWaits: () => [],
  };
}
