/**
 * The thread dispatcher's counters and queue-wait samples, and the plain-data snapshot `stats()` returns
 * (read by the status page and the metrics, gateway/metrics/pool-source.ts).
 */
import type { ThreadMode, ThreadPoolStats, ThreadStats, ThreadState } from './options.js';
import type { SchedCounters } from './scheduler.js';

/** Queue waits kept for the snapshot (the most recent ones). */
const WAIT_SAMPLES = 256;

/** Counters other parts than the scheduler keep. */
export type PoolCounters = Omit<ThreadPoolStats['counters'], keyof SchedCounters>;

/** A thread as the snapshot needs it. */
export interface StatsSlot {
  readonly serial: number;
  readonly threadId: number;
  readonly state: ThreadState;
  readonly requests: number;
  readonly job: { requestLine(): string; readonly startedAt: number } | null;
}

/** What the dispatcher knows at snapshot time. */
export interface StatsInput {
  mode: ThreadMode;
  size: number;
  /** Threads alive (started, not yet exited). */
  threads: number;
  busy: number;
  slots: Iterable<StatsSlot>;
  /** Requests waiting for a thread. */
  waiting: number;
  /** ms the oldest of them has waited. */
  oldestWaitMs: number;
  sched: SchedCounters;
}

/** Counters and samples of one dispatcher. */
export class PoolStats {
  readonly counters: PoolCounters = {
    dispatched: 0,
    completed: 0,
    shedQueueFull: 0,
    shedQueueWait: 0,
    shedUnavailable: 0,
    timeouts: 0,
    crashes: 0,
    recycled: 0,
    reloads: 0,
    threadsStarted: 0,
  };
  private readonly waits: number[] = [];

  /** A request got a thread after waiting `ms`. */
  started(ms: number): void {
    this.counters.dispatched++;
    if (this.waits.length >= WAIT_SAMPLES) this.waits.shift();
    this.waits.push(ms);
  }

  /** A request was shed, for this cause. */
  shed(cause: 'queueFull' | 'queueWait' | 'unavailable'): void {
    if (cause === 'queueFull') this.counters.shedQueueFull++;
    else if (cause === 'queueWait') this.counters.shedQueueWait++;
    else this.counters.shedUnavailable++;
  }

  /** The snapshot. */
  snapshot(input: StatsInput): ThreadPoolStats {
    const workers: ThreadStats[] = [];
    let idle = 0;
    let starting = 0;
    for (const s of input.slots) {
      const state = s.state;
      if (state === 'idle') idle++;
      else if (state === 'starting') starting++;
      const job = s.job;
      workers.push({
        slot: s.serial,
        threadId: s.threadId,
        state,
        requests: s.requests,
        current: job === null ? null : { requestLine: job.requestLine(), startedAt: job.startedAt },
      });
    }
    return {
      mode: input.mode,
      size: input.size,
      threads: input.threads,
      busy: input.busy,
      idle,
      starting,
      queueLength: input.waiting,
      oldestQueuedMs: input.oldestWaitMs,
      workers,
      queueWaitMs: [...this.waits],
      counters: { ...this.counters, ...input.sched },
    };
  }
}
