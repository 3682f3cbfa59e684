/**
 * The option and stats shapes of the thread dispatchers (threadPool = N, threading = 1): what a caller
 * passes to createThreadDispatcher and what `dispatcher.stats()` returns, plain data.
 */
import type { ResourceLimits } from 'node:worker_threads';
import type { AppSpec } from '../app-loader.js';
import type { DispatcherOptions } from '../core/dispatch.js';
import type { ToolsConfig } from '../config/tools-types.js';

/** 'pool': threadPool = N. 'perRequest': threading = 1, a new thread per request. */
export type ThreadMode = 'pool' | 'perRequest';

/**
 * A thread as the stats report it: starting (loading the app), idle, busy, retiring (serving its last
 * request: reload, maxRequests), stopping (asked to end, or ended).
 */
export type ThreadState = 'starting' | 'idle' | 'busy' | 'retiring' | 'stopping';

/** Options of the thread dispatchers. Times are milliseconds; 0 turns a limit off. */
export interface ThreadDispatcherOptions extends DispatcherOptions {
  /** The app, as `MODULE[:EXPORT]` or parsed by app-loader's parseAppSpec. Each thread imports it. */
  app: string | AppSpec;
  /** Where MODULE is resolved from. Default: process.cwd(). */
  cwd?: string;
  /** 'pool' (threadPool=N, the default) or 'perRequest' (threading=1): the policy of policy.ts. */
  mode?: ThreadMode;
  /** pool: the number of threads. perRequest: the most threads at once. Default 4 (pool), 64 (perRequest). */
  size?: number;
  /** Requests that may wait for a thread; beyond that, 503 at once. 0: none wait. Default 256. */
  maxQueue?: number;
  /** Admission control: while the oldest queued request has waited longer than this, new ones get 503. */
  maxQueueWaitMs?: number;
  /** Most queued requests handed to a thread in one batch (batch-claim.ts). 1: one per batch. Default 16. */
  maxBatch?: number;
  /**
   * How long an idle pool thread sleeps waiting for its next batch before it goes back to its event loop
   * (handoff.ts). Default 2 (pool), 0 (perRequest: a thread serves one request). Not a config option: the
   * tests set it to pin which way a batch arrives.
   */
  handoffWaitMs?: number;
  /** A request running longer gets 504 (or its connection closed if headers went out); its thread is replaced. */
  requestTimeoutMs?: number;
  /** Replace a thread after this many requests (memory leaks in apps). perRequest: always 1. */
  maxRequests?: number;
  /** Add 0..jitter to each thread's maxRequests so threads do not all restart at once. */
  maxRequestsJitter?: number;
  /** Retry-After seconds on 503. Default 1. */
  retryAfterSeconds?: number;
  /** Credit window for bodies, bytes. Default 256 KiB. */
  window?: number;
  /** Config features (gateway/features.ts names) that wrap the app in each thread. */
  features?: string[];
  /** The config's tools (`[/path]` sections, log.*), built in each thread (gateway/tools/apply.ts). */
  tools?: ToolsConfig;
  /** V8 heap limits per thread. */
  resourceLimits?: ResourceLimits;
}

/** One thread, for stats. */
export interface ThreadStats {
  /** A small stable number for this thread in this process. */
  slot: number;
  threadId: number;
  state: ThreadState;
  /** Requests this thread has taken. */
  requests: number;
  /** The request it is serving: request line and start time (epoch ms). */
  current: { requestLine: string; startedAt: number } | null;
}

/** A snapshot of the dispatcher, plain data (for the metrics/status pages). */
export interface ThreadPoolStats {
  mode: ThreadMode;
  size: number;
  /** OS threads alive right now (started and not yet exited), whatever their state. */
  threads: number;
  busy: number;
  idle: number;
  starting: number;
  /** Requests waiting for a thread: queued, or handed to a thread in a batch and not started yet. */
  queueLength: number;
  /** How long the oldest queued request has waited, ms (0 when the queue is empty). */
  oldestQueuedMs: number;
  workers: ThreadStats[];
  /** Queue waits of the most recent requests that got a thread, ms, oldest first. */
  queueWaitMs: number[];
  counters: {
    /** Requests handed to a thread. */
    dispatched: number;
    /** Requests whose response completed (ended or aborted) through a thread. */
    completed: number;
    /** 503: pool and queue full. */
    shedQueueFull: number;
    /** 503: the oldest queued request waited longer than maxQueueWaitMs. */
    shedQueueWait: number;
    /** 503: shutting down, or no thread could load the app. */
    shedUnavailable: number;
    /** Requests past requestTimeoutMs (their thread was replaced). */
    timeouts: number;
    /** Threads that ended on their own (process.exit, uncaught error, out of memory). */
    crashes: number;
    /** Threads replaced after maxRequests. */
    recycled: number;
    reloads: number;
    threadsStarted: number;
    /** Messages that handed a thread more than one queued request (a batch). */
    batches: number;
    /** Requests taken back from a thread's batch before it started them, for another thread. */
    takenBack: number;
  };
}
