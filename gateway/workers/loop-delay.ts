/**
 * Queue wait where the queue is the event loop (single, processPool, forking): a request whose bytes
 * arrived while the loop was busy (a synchronous app, a burst) waits, unseen, in the kernel until the loop
 * reads them. The wait cannot be read per request, but its lower bound can: a timer that should fire every
 * `period` ms and fires late says the loop was behind by that much, and libuv runs timers before it polls
 * for I/O, so the late tick is seen before the requests that queued behind the delay are read. Requests read
 * until the next on-time tick (at most one period) count as having waited that long.
 *
 * perf_hooks.monitorEventLoopDelay was measured as the alternative: it gives a histogram over time, not the
 * delay of the loop iteration that is about to read the waiting requests, which is what admission needs.
 */

/** Watches how late the event loop runs. Call `stop()` when done (the timer is unref'd either way). */
export class LoopDelay {
  private expected: number;
  private late = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly period: number) {
    this.expected = Date.now() + period;
    this.timer = setInterval(() => {
      const now = Date.now();
      this.late = Math.max(0, now - this.expected);
      this.expected = now + period;
    }, period);
    this.timer.unref();
  }

  /** How late the loop ran at its last tick, ms (0 once it ticks on time again). */
  get lateMs(): number {
    return this.late;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
