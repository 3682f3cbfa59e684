/**
 * The threads of one dispatcher: starting them (and retrying with backoff when the app does not load),
 * replacing those that crash, time out or reach maxRequests, retiring them for a reload, and ending them at
 * shutdown. How many threads to keep and how to reload come from the policy (policy.ts); which request
 * runs where is the scheduler's business, and the requests themselves the dispatcher's.
 */
import type { ErrorLog } from '../core/log.js';
import { BootBackoff } from '../workers/slot.js';
import type { FromWorker } from './channel.js';
import type { ThreadPolicy } from './policy.js';
import type { PoolCounters } from './stats.js';
import { ThreadSlot, type SlotBoot } from './thread-slot.js';

/** Callbacks into the dispatcher. */
export interface SupervisorEvents<J> {
  /** A response message from a thread. */
  message(slot: ThreadSlot<J>, m: FromWorker): void;
  /** A thread loaded the app and is idle. */
  ready(slot: ThreadSlot<J>): void;
  /** A thread ended (after the supervisor's bookkeeping): its requests must be answered. */
  exit(slot: ThreadSlot<J>): void;
  /** A busy thread was retired: what it has not started should go to other threads. */
  retired(slot: ThreadSlot<J>): void;
  /** No thread can serve (the app does not load in any): waiting requests must be answered. */
  unusable(): void;
}

/** What the supervisor needs to know of the load: threads busy and requests queued. */
export interface Demand {
  busy: number;
  queued: number;
}

/** Starts, replaces and ends the threads of one dispatcher. */
export class ThreadSupervisor<J extends { requestLine(): string }> {
  /** Every thread not yet exited. */
  readonly slots = new Set<ThreadSlot<J>>();
  /** Threads alive (started, not yet exited). */
  live = 0;
  started = false;
  /** The dispatcher takes no new requests. */
  closing = false;
  private booting = false;
  private generation = 0;
  private readonly backoff = new BootBackoff(100, 5000);
  private spawnTimer: NodeJS.Timeout | undefined;
  private reloadChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly policy: ThreadPolicy,
    private readonly size: number,
    private readonly boot: SlotBoot,
    private readonly limits: { maxRequests: number; jitter: number },
    private readonly log: ErrorLog,
    private readonly counters: PoolCounters,
    private readonly events: SupervisorEvents<J>,
    private readonly demand: () => Demand,
  ) {}

  /**
   * Start the threads the policy boots with and wait until each has loaded the app. Rejects with
   * TSGI_ERR_APP_LOAD when the app cannot be loaded; no thread is left running then.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const slots: ThreadSlot<J>[] = [];
    this.booting = true;
    for (let i = 0; i < this.policy.bootThreads(this.size); i++) slots.push(this.spawn());
    try {
      await Promise.all(slots.map((s) => s.ready));
    } catch (err) {
      this.closing = true;
      await Promise.all([...this.slots].map((s) => s.stop()));
      this.onBootFailure(); // requests that came in meanwhile (dispatch before start) get 503, not a hang
      throw err;
    } finally {
      this.booting = false;
    }
  }

  /** Whether some thread can serve now or after its current request. */
  get usable(): boolean {
    for (const s of this.slots) if (s.phase === 'ready' || s.phase === 'busy' || s.retiring) return true;
    return false;
  }

  /** Start threads up to what the policy wants (later, with backoff, while the app fails to load). */
  ensureCapacity(): void {
    if (!this.started || (this.closing && this.demand().queued === 0)) return;
    if (this.spawnTimer !== undefined) return;
    const delay = this.backoff.delayMs();
    if (delay > 0) {
      this.spawnTimer = setTimeout(() => {
        this.spawnTimer = undefined;
        this.spawnNeeded();
      }, delay);
      this.spawnTimer.unref();
      return;
    }
    this.spawnNeeded();
  }

  private spawnNeeded(): void {
    const { busy, queued } = this.demand();
    if (this.closing && queued === 0) return;
    let active = 0;
    for (const s of this.slots) if (s.active) active++;
    const want = this.policy.wanted(this.size, busy, queued);
    for (let n = active; n < want; n++) {
      this.spawn();
      if (this.backoff.failures > 0) break; // one probe at a time while the app fails to load
    }
  }

  private spawn(): ThreadSlot<J> {
    const { maxRequests, jitter } = this.limits;
    const limit = maxRequests > 0 ? maxRequests + Math.floor(Math.random() * (jitter + 1)) : 0;
    const slot = new ThreadSlot<J>(this.boot, limit, this.generation, {
      message: (s, m) => this.events.message(s, m),
      exit: (s, code, err) => this.onExit(s, code, err),
    });
    this.slots.add(slot);
    this.live++;
    this.counters.threadsStarted++;
    slot.ready.then(
      () => {
        if (slot.phase !== 'ready') return; // stopped while it booted
        this.backoff.succeeded();
        this.events.ready(slot);
      },
      () => {},
    );
    return slot;
  }

  /**
   * A thread finished its requests: stop it if it was retiring or reached its limit (true), else it is
   * free again (false).
   */
  afterRequests(slot: ThreadSlot<J>): boolean {
    if (slot.retiring || (slot.limit > 0 && slot.requests >= slot.limit)) {
      const reason = slot.retiring ? 'reload' : 'maxRequests';
      if (reason === 'maxRequests' && this.policy.countsRecycling) this.counters.recycled++;
      void slot.stop(reason);
      this.ensureCapacity();
      return true;
    }
    if (slot.phase === 'busy') slot.phase = 'ready';
    return false;
  }

  /** End a thread that cannot be asked (stuck past its time limit, grace over) and start another. */
  terminate(slot: ThreadSlot<J>): void {
    void slot.stop();
    this.ensureCapacity();
  }

  private onExit(slot: ThreadSlot<J>, code: number, error: Error | undefined): void {
    this.slots.delete(slot);
    this.live--;
    const cause = slot.exitCause;
    if (cause === 'bootFailure') {
      // start() reports a failure at boot itself; later (a replacement, a reload) the log is the only place.
      if (!this.booting) this.log.log('error', `thread ${slot.threadId} could not load the app`, error);
      this.onBootFailure();
    } else if (cause === 'crash') {
      this.counters.crashes++;
      const job = slot.job;
      this.log.log('error', `thread ${slot.threadId} ended unexpectedly (exit code ${code})${job !== null ? ` while serving ${job.requestLine()}` : ''}; starting a new one`, error);
    }
    this.events.exit(slot);
    this.ensureCapacity();
  }

  /** A thread could not load the app: retry with backoff, and fail fast while no thread can serve. */
  onBootFailure(): void {
    this.backoff.failed();
    if (!this.usable) this.events.unusable();
  }

  /** Take a thread out of service: now if idle, after its request if busy. */
  private retire(slot: ThreadSlot<J>, idle: (s: ThreadSlot<J>) => void): void {
    if (slot.phase === 'ready') {
      idle(slot);
      void slot.stop('reload');
    } else if (slot.phase === 'busy') {
      slot.retireAfterRequest();
      this.events.retired(slot);
    } else if (slot.phase === 'booting') void slot.stop();
  }

  /**
   * Replace every thread with one that loads the app afresh (the policy says how: one at a time, each new
   * thread ready before an old one leaves; or every old one after its request). Rejects with
   * TSGI_ERR_APP_LOAD when the new code does not load; the remaining old threads keep serving.
   * `leaveIdle` takes an idle thread out of the scheduler's idle list before it is stopped.
   */
  reload(leaveIdle: (s: ThreadSlot<J>) => void): Promise<void> {
    const run = this.reloadChain.then(() => this.replaceAll(leaveIdle));
    this.reloadChain = run.catch(() => {});
    return run;
  }

  private async replaceAll(leaveIdle: (s: ThreadSlot<J>) => void): Promise<void> {
    this.counters.reloads++;
    const gen = ++this.generation;
    // Threads booted before the reload but not ready yet load the old code too: replace them as well.
    const stale = (): ThreadSlot<J>[] => [...this.slots].filter((s) => s.generation < gen && s.active);
    for (;;) {
      if (this.closing) return;
      const old = stale();
      if (old.length === 0) return;
      if (this.policy.reload === 'retire') {
        for (const s of old) this.retire(s, leaveIdle);
        this.ensureCapacity();
        return;
      }
      const fresh = this.spawn();
      await fresh.ready; // TSGI_ERR_APP_LOAD: stop here, the old threads keep serving
      const left = stale();
      const victim = left.find((s) => s.phase === 'ready') ?? left[0];
      if (victim !== undefined) this.retire(victim, leaveIdle);
    }
  }

  /** Take no new requests, start no threads; resolves when a reload in progress has settled. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.spawnTimer);
    await this.reloadChain;
  }

  /** End every thread, each running the app's lifecycle end. */
  stopAll(): Promise<void> {
    return Promise.all([...this.slots].map((s) => s.stop('shutdown'))).then(() => {});
  }
}
