/**
 * Request batches: when requests are queued and a pool thread frees, the main thread hands that thread
 * several queued requests in one message instead of one. Every cross-thread message costs a thread
 * wake-up and a write to an eventfd (expensive syscalls, the largest share of the pool's per-request cost
 * on the main thread; see BENCHMARKS.md), so a batch of B requests costs 1 + B messages instead of 2B.
 *
 * A thread runs its batch one request at a time, as it runs a lone request. What it has not started yet
 * must stay movable: if another thread goes idle while this one is still busy (a slow request at the head
 * of the batch), the main thread takes the unstarted rest back and gives it to the idle thread. One shared
 * Int32 per thread says how many requests of the current batch the thread has taken; both sides move it
 * only with compare-and-swap, so a request is either taken by the thread or taken back by the main thread,
 * never both.
 */

/** The shared counter of one thread's current batch. Both ends wrap the same SharedArrayBuffer(4). */
export class BatchClaim {
  private readonly cell: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.cell = new Int32Array(buffer);
  }

  /** Main thread, before posting a batch: its first request counts as taken (the thread starts it at once). */
  reset(): void {
    Atomics.store(this.cell, 0, 1);
  }

  /**
   * Main thread: take back every request of a batch of `length` the thread has not started. Returns the
   * index of the first one taken back (`length` when the thread had taken them all). After this the
   * thread takes nothing more from the batch.
   */
  takeBack(length: number): number {
    for (;;) {
      const taken = Atomics.load(this.cell, 0);
      if (taken >= length) return length;
      if (Atomics.compareExchange(this.cell, 0, taken, length) === taken) return taken;
    }
  }

  /** Pool thread: take request `index` of a batch of `length`. False when it was taken back (or there is none). */
  take(index: number, length: number): boolean {
    if (index >= length) return false;
    return Atomics.compareExchange(this.cell, 0, index, index + 1) === index;
  }
}
