/**
 * What differs between threadPool = N and threading = 1, as data: the dispatcher, its scheduler and its
 * supervisor are the same code for both and ask the policy instead of branching on the mode.
 */
import type { ThreadMode } from './options.js';

/** How many threads a dispatcher runs and how it treats them. */
export interface ThreadPolicy {
  readonly mode: ThreadMode;
  /** `size` when the options give none. pool: the number of threads; perRequest: the most at once. */
  readonly defaultSize: number;
  /** Threads start() boots and waits for (the app must load in them before anything listens). */
  bootThreads(size: number): number;
  /** Threads to keep booting, idle or busy, given those busy and the requests queued. */
  wanted(size: number, busy: number, queued: number): number;
  /** Requests a thread serves before it is replaced (0: no limit), from the configured limit. */
  maxRequests(configured: number): number;
  /** Jitter added to maxRequests, from the configured one. */
  jitter(configured: number): number;
  /** After each scheduling round, boot threads up to `wanted` (a spare ahead of the next request). */
  readonly bootsAhead: boolean;
  /** Whether a thread ended after maxRequests counts as `recycled` in the stats (not when every thread serves one). */
  readonly countsRecycling: boolean;
  /**
   * reload(): 'rolling' replaces threads one at a time, each new one ready before an old one leaves;
   * 'retire' retires every old thread after its request (each request gets a fresh thread anyway).
   */
  readonly reload: 'rolling' | 'retire';
  /** How long an idle thread sleeps waiting for its next batch before it goes back to its event loop (handoff.ts). */
  readonly handoffWaitMs: number;
}

/** threadPool = N: N threads started at boot and kept; recycled after maxRequests (+ jitter). */
export const THREAD_POOL: ThreadPolicy = {
  mode: 'pool',
  defaultSize: 4,
  bootThreads: (size) => size,
  wanted: (size) => size,
  maxRequests: (configured) => configured,
  jitter: (configured) => configured,
  bootsAhead: false,
  countsRecycling: true,
  reload: 'rolling',
  handoffWaitMs: 2,
};

/**
 * threading = 1: a thread per request, ended after it. One spare thread is kept booted ahead of the next
 * request (so it does not wait for a thread to start), up to `size` at once.
 */
export const THREAD_PER_REQUEST: ThreadPolicy = {
  mode: 'perRequest',
  defaultSize: 64,
  bootThreads: () => 1,
  wanted: (size, busy, queued) => Math.min(size, busy + queued + 1),
  maxRequests: () => 1,
  jitter: () => 0,
  bootsAhead: true,
  countsRecycling: false,
  reload: 'retire',
  // A thread serves one request and ends: nothing to wait for.
  handoffWaitMs: 0,
};

/** The policy of a mode. */
export function policyOf(mode: ThreadMode): ThreadPolicy {
  return mode === 'perRequest' ? THREAD_PER_REQUEST : THREAD_POOL;
}
