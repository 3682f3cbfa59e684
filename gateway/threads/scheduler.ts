/**
 * Which waiting request goes to which idle thread, in batches (batch-claim.ts says why), and the take-back
 * of what a thread has not started:
 *
 * - a thread that frees while requests wait takes its fair share of the queue (the queue length over the
 *   number of threads, at most `maxBatch` and at most what its request limit leaves) in one message; a
 *   request with a body goes alone, since its body streams over the thread's one input channel while it
 *   runs;
 * - a thread that goes idle with the queue empty takes back the unstarted rest of the largest batch;
 * - a batch stalled behind a request that has run past `stallMs` goes back to the front of the queue (it
 *   was queued before anything queued now) at the next scheduling round, that is when a thread frees.
 *
 * Knows nothing of workers or messages: it moves jobs between the queue, the idle threads and the threads'
 * batches, and calls `assign` for each batch handed out. Idle threads are used last-in first-out (the most
 * recently used one has warm caches).
 */
import type { BatchClaim } from './batch-claim.js';

/** A waiting request as the scheduler sees it. */
export interface SchedJob {
  readonly head: { readonly body: unknown };
  readonly sink: { readonly closed: boolean };
  /** When it was queued, ms since epoch. */
  readonly enqueuedAt: number;
  /** When its thread started it, ms since epoch (0 while waiting). */
  readonly startedAt: number;
  /** The thread holding it, null while queued. */
  slot: unknown;
  /** Called when it is dropped from the queue because its client left. */
  finish(): void;
}

/** A thread as the scheduler sees it. */
export interface SchedSlot<J> {
  /** The request it runs now. */
  job: J | null;
  /** The rest of its batch, not started. */
  later: J[];
  /** Length of the batch last handed to it. */
  batchLength: number;
  /** Requests handed to it over its life. */
  requests: number;
  /** Its request limit (0: none). */
  readonly limit: number;
  /** The batch counter it shares with its thread. */
  readonly claim: BatchClaim;
}

/** Counters the scheduler keeps, read by the stats. */
export interface SchedCounters {
  /** Messages that handed a thread more than one request. */
  batches: number;
  /** Requests taken back from a batch before their thread started them. */
  takenBack: number;
}

/** The queue and the batches of one dispatcher. */
export class Scheduler<J extends SchedJob, S extends SchedSlot<J>> {
  /** Requests waiting for a thread, oldest first. */
  queue: J[] = [];
  /** Requests handed to a thread in a batch that it has not started (they wait, as queued ones do). */
  batched = 0;
  /** Idle threads, most recently used last. */
  readonly idle: S[] = [];
  readonly counters: SchedCounters = { batches: 0, takenBack: 0 };

  /**
   * `threads()`: the number of threads the fair share divides by; `slots()`: every thread (for take-back);
   * `stallMs`: how long a batch's running request may run before the rest is taken back.
   */
  constructor(
    private readonly maxBatch: number,
    private readonly threads: () => number,
    private readonly slots: () => Iterable<S>,
    private readonly stallMs: number,
  ) {}

  /** Requests waiting for a thread: queued, or in a batch and not started. */
  get waiting(): number {
    return this.queue.length + this.batched;
  }

  /** When the request that has waited longest was queued (`now` when none waits). */
  oldestEnqueuedAt(now: number): number {
    let oldest = this.queue.length > 0 ? this.queue[0].enqueuedAt : now;
    if (this.batched > 0) for (const s of this.slots()) if (s.later.length > 0 && s.later[0].enqueuedAt < oldest) oldest = s.later[0].enqueuedAt;
    return oldest;
  }

  /** A thread is free for requests. */
  addIdle(slot: S): void {
    this.idle.push(slot);
  }

  /** A thread leaves the idle ones (retired, ended). */
  removeIdle(slot: S): void {
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /**
   * Hand queued requests to idle threads, calling `assign(slot, batch)` for each (the slot is no longer idle
   * then; the batch's jobs point at it and its `later` holds the unstarted rest). Takes back stalled batches
   * first, and the largest unstarted batch when the queue is empty and a thread is idle.
   */
  run(assign: (slot: S, batch: J[]) => void, now = Date.now()): void {
    if (this.batched > 0 && this.idle.length > 0) this.takeBackStalled(now);
    while (this.idle.length > 0 && (this.queue.length > 0 || this.takeBackForIdle())) {
      const slot = this.idle[this.idle.length - 1];
      const batch = this.nextBatch(slot.limit > 0 ? slot.limit - slot.requests : this.maxBatch);
      if (batch.length === 0) continue; // every queued client had gone
      this.idle.pop();
      this.hand(slot, batch);
      assign(slot, batch);
    }
  }

  /** The next batch for a thread that may take `room` more requests: its fair share of the queue, bodies alone. */
  nextBatch(room: number): J[] {
    const batch: J[] = [];
    const want = Math.min(this.maxBatch, room, Math.ceil(this.queue.length / this.threads()));
    while (batch.length < want && this.queue.length > 0) {
      const job = this.queue[0];
      if (job.sink.closed) {
        this.queue.shift();
        job.finish(); // the client gave up while waiting: do not run the app for nobody
        continue;
      }
      if (job.head.body !== null && batch.length > 0) break;
      batch.push(this.queue.shift()!);
      if (job.head.body !== null) break;
    }
    return batch;
  }

  /** Record a batch handed to a thread: it starts the first request at once, the rest wait in `later`. */
  private hand(slot: S, batch: J[]): void {
    slot.requests += batch.length;
    for (const job of batch) job.slot = slot;
    slot.later = batch.slice(1);
    this.batched += slot.later.length;
    slot.batchLength = batch.length;
    if (batch.length > 1) this.counters.batches++;
    slot.claim.reset();
  }

  /**
   * The thread reported that it took the next request of its batch: returns it (undefined when the
   * scheduler has none, which the claim counter rules out).
   */
  advance(slot: S): J | undefined {
    const next = slot.later.shift();
    if (next !== undefined) this.batched--;
    return next;
  }

  /**
   * Take back the requests of a thread's batch that it has not started, to the front of the queue (they
   * keep their place: they were queued before anything queued now). Returns how many.
   */
  takeBack(slot: S): number {
    if (slot.later.length === 0) return 0;
    const from = slot.claim.takeBack(slot.batchLength);
    const back = slot.later.splice(slot.later.length - (slot.batchLength - from));
    for (const job of back) job.slot = null;
    slot.requests -= back.length;
    this.batched -= back.length;
    this.counters.takenBack += back.length;
    this.queue.unshift(...back);
    return back.length;
  }

  /**
   * A thread ends while it serves (timeout, crash, shutdown): what it had not started goes back to the
   * queue; returns what it had taken but not reported (they end with the running one).
   */
  release(slot: S): J[] {
    this.takeBack(slot);
    const taken = slot.later;
    this.batched -= taken.length;
    slot.later = [];
    return taken;
  }

  /** Empty the queue (shutdown, or no thread can serve): returns what waited. */
  clear(): J[] {
    return this.queue.splice(0);
  }

  /** Take back the unstarted part of every batch whose running request has run past stallMs. */
  private takeBackStalled(now: number): void {
    const since = now - this.stallMs;
    for (const s of this.slots()) if (s.later.length > 0 && s.job !== null && s.job.startedAt < since) this.takeBack(s);
  }

  /** Take back the unstarted part of the largest batch in progress. False when there is none. */
  private takeBackForIdle(): boolean {
    if (this.batched === 0) return false;
    let most: S | null = null;
    for (const s of this.slots()) if (s.later.length > 0 && (most === null || s.later.length > most.later.length)) most = s;
    return most !== null && this.takeBack(most) > 0;
  }
}
