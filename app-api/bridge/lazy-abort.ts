/**
 * An AbortController made on first use of its signal. `signal` in a RequestInit costs ~100 us per Request
 * (undici links a new signal to it), more than the rest of the bridge together (measured: bench/bridge.ts),
 * and most handlers never read it: so the controller exists only once someone asked for the signal, and
 * aborting is free when nobody did.
 */
export class LazyAbort {
  private controller: AbortController | null = null;
  private reason: unknown = undefined;
  private aborted = false;

  /** True once a signal was handed out: the abort must reach it. */
  get used(): boolean {
    return this.controller !== null;
  }

  /** The signal (made now, already aborted when abort() came first). */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Abort the signal, now or when it is first read. Only the first reason counts. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
