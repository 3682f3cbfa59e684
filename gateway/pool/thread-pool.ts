/**
 * The worker-thread concurrency models, as one Dispatcher on the main thread:
 *
 * - `threadPool=N` (mode 'pool'): N threads started at boot, each loading the app. The main thread owns the
 *   sockets and hands each request to an idle thread; when all are busy, requests wait in a bounded queue.
 *   A thread that frees while requests wait takes its fair share of them in one message (a batch,
 *   batch-claim.ts), and a thread that goes idle takes back what another has not started.
 * - `threading=1` (mode 'perRequest'): a new thread for every request, ended after it (one spare thread is
 *   started ahead, so the request does not wait for the thread to boot).
 *
 * Both share everything else: request timeout (the stuck thread is terminated and replaced, uWSGI's
 * harakiri), recycling after maxRequests (+ jitter), fast 503 + Retry-After when the pool and the queue are
 * full, admission control on queue wait, replacement of crashed threads, and reload() that swaps threads
 * one at a time while in-flight requests finish on the old ones.
 *
 * A request crosses to its thread as plain CGI variables; the body follows as transferable chunks within a
 * credit window, and the response comes back the same way (sync-input.ts, response-proxy.ts). The environ,
 * header validation and framing happen in the thread, in the same gateway core as single mode.
 */
import type { ToolsConfig } from '../tools/types.js';
import type { ResourceLimits } from 'node:worker_threads';
import { TsgiError } from '../../app-api/errors.js';
import type { App, HeaderList } from '../../app-api/types.js';
import { parseAppSpec, type AppSpec } from '../app-loader.js';
import { InlineDispatcher, type Dispatcher, type DispatcherOptions, type RequestHead } from '../core/dispatch.js';
import type { ResponseSink } from '../core/sink.js';
import { DEFAULT_WINDOW, encodeCgi, type FromWorker, type RequestSpec } from './channel.js';
import { ResponseRelay } from './response-proxy.js';
import { WorkerSlot, type SlotBoot, type SlotState } from './worker-slot.js';

/** Options of the thread dispatchers. Times are milliseconds; 0 turns a limit off. */
export interface ThreadDispatcherOptions extends DispatcherOptions {
  /** The app, as `MODULE[:EXPORT]` or parsed by app-loader's parseAppSpec. Each thread imports it. */
  app: string | AppSpec;
  /** Where MODULE is resolved from. Default: process.cwd(). */
  cwd?: string;
  /** 'pool' (threadPool=N, the default) or 'perRequest' (threading=1). */
  mode?: 'pool' | 'perRequest';
  /** pool: the number of threads. perRequest: the most threads at once. Default 4 (pool), 64 (perRequest). */
  size?: number;
  /** Requests that may wait for a thread; beyond that, 503 at once. 0: none wait. Default 256. */
  maxQueue?: number;
  /** Admission control: while the oldest queued request has waited longer than this, new ones get 503. */
  maxQueueWaitMs?: number;
  /** Most queued requests handed to a thread in one message (batch-claim.ts). 1: one per message. Default 16. */
  maxBatch?: number;
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
  /** Config features (serve.ts FEATURES names) that wrap the app in each thread. */
  features?: string[];
  /** The config's tools, applied in each thread. */
  tools?: ToolsConfig;
  /** V8 heap limits per thread. */
  resourceLimits?: ResourceLimits;
}

/** One thread, for stats. */
export interface ThreadStats {
  /** A small stable number for this thread in this process. */
  slot: number;
  threadId: number;
  state: SlotState;
  /** Requests this thread has taken. */
  requests: number;
  /** The request it is serving: request line and start time (epoch ms). */
  current: { requestLine: string; startedAt: number } | null;
}

/** A snapshot of the dispatcher, plain data (for the metrics/status pages). */
export interface ThreadPoolStats {
  mode: 'pool' | 'perRequest';
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

const WAIT_SAMPLES = 256;
/** Default for the most queued requests handed to one thread in one message (batch-claim.ts says why). */
const MAX_BATCH = 16;
/**
 * A batch's unstarted requests wait behind a request that has run this long only until a thread frees: that
 * thread takes them back before anything newer in the queue. Batches are for requests much shorter than this.
 */
const BATCH_STALL_MS = 2;

/** A request inside the dispatcher. */
class Job {
  startedAt = 0;
  slot: WorkerSlot<Job> | null = null;
  relay: ResponseRelay | null = null;
  timer: NodeJS.Timeout | undefined;
  finalReceived = false;
  done = false;
  readonly promise: Promise<void>;
  private resolve!: () => void;

  constructor(readonly id: number, readonly head: RequestHead, readonly sink: ResponseSink, readonly enqueuedAt: number) {
    this.promise = new Promise<void>((r) => (this.resolve = r));
  }

  /** The response is complete (or taken over): dispatch() resolves. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.resolve();
  }

  requestLine(): string {
    const c = this.head.cgi;
    const target = c.REQUEST_URI ?? c.SCRIPT_NAME + c.PATH_INFO + (c.QUERY_STRING ? '?' + c.QUERY_STRING : '');
    return `${c.REQUEST_METHOD} ${target} ${c.SERVER_PROTOCOL}`;
  }
}

function statusApp(status: string, message: string, extra: HeaderList = []): App {
  const body = Buffer.from(message + '\n');
  return (_environ, startResponse) => {
    startResponse(status, [['Content-Type', 'text/plain; charset=utf-8'], ...extra]);
    return [body];
  };
}

/** The threadPool / threading dispatcher. Call `start()` before serving. */
export class ThreadPoolDispatcher implements Dispatcher {
  readonly mode: 'pool' | 'perRequest';
  readonly size: number;
  private readonly boot: SlotBoot;
  private readonly maxQueue: number;
  private readonly maxQueueWaitMs: number;
  private readonly maxBatch: number;
  private readonly requestTimeoutMs: number;
  private readonly maxRequests: number;
  private readonly jitter: number;
  private readonly slots = new Set<WorkerSlot<Job>>();
  /** Idle threads, most recently used last (LIFO: its caches are warm). */
  private readonly idle: WorkerSlot<Job>[] = [];
  private queue: Job[] = [];
  /** Requests handed to a thread in a batch that it has not started yet (they wait, as queued ones do). */
  private batched = 0;
  private nextId = 1;
  private generation = 0;
  private liveThreads = 0;
  private busy = 0;
  private bootFailures = 0;
  private spawnTimer: NodeJS.Timeout | undefined;
  private started = false;
  private booting = false;
  private closing = false;
  private closed: Promise<void> | null = null;
  private drained: (() => void) | null = null;
  private reloadChain: Promise<void> = Promise.resolve();
  private readonly waits: number[] = [];
  private readonly counters: ThreadPoolStats['counters'] = {
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
    batches: 0,
    takenBack: 0,
  };
  private readonly overloaded: InlineDispatcher;
  private readonly unavailable: InlineDispatcher;
  private readonly timedOut: InlineDispatcher;
  private readonly crashed: InlineDispatcher;

  constructor(private readonly opts: ThreadDispatcherOptions) {
    this.mode = opts.mode ?? 'pool';
    this.size = opts.size ?? (this.mode === 'pool' ? 4 : 64);
    if (!Number.isInteger(this.size) || this.size < 1) throw new TsgiError('TSGI_ERR_CONFIG', `thread dispatcher: size must be a whole number >= 1, got ${this.size}`);
    this.maxQueue = opts.maxQueue ?? 256;
    this.maxQueueWaitMs = opts.maxQueueWaitMs ?? 0;
    this.maxBatch = opts.maxBatch ?? MAX_BATCH;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw new TsgiError('TSGI_ERR_CONFIG', `thread dispatcher: maxBatch must be a whole number >= 1, got ${this.maxBatch}`);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 0;
    this.maxRequests = this.mode === 'perRequest' ? 1 : (opts.maxRequests ?? 0);
    this.jitter = this.mode === 'perRequest' ? 0 : (opts.maxRequestsJitter ?? 0);
    this.boot = {
      app: typeof opts.app === 'string' ? parseAppSpec(opts.app) : opts.app,
      cwd: opts.cwd ?? process.cwd(),
      features: opts.features ?? [],
      tools: opts.tools,
      mode: this.mode,
      appConfig: { ...(opts.appConfig ?? {}) },
      multiprocess: opts.multiprocess === true,
      window: opts.window ?? DEFAULT_WINDOW,
      resourceLimits: opts.resourceLimits,
    };
    const retry: HeaderList = [['Retry-After', String(opts.retryAfterSeconds ?? 1)]];
    const inline = (app: App): InlineDispatcher => new InlineDispatcher(app, { log: opts.log });
    this.overloaded = inline(statusApp('503 Service Unavailable', 'Service Unavailable: every thread is busy and the queue is full; retry later', retry));
    this.unavailable = inline(statusApp('503 Service Unavailable', 'Service Unavailable', retry));
    this.timedOut = inline(statusApp('504 Gateway Timeout', 'Gateway Timeout: the request ran past its time limit'));
    this.crashed = inline(statusApp('500 Internal Server Error', 'Internal Server Error'));
  }

  /**
   * Start the threads and wait until each has loaded the app (perRequest: one, to check the app loads).
   * Rejects with TSGI_ERR_APP_LOAD when the app cannot be loaded; no thread is left running then.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const first = this.mode === 'pool' ? this.size : 1;
    const slots: WorkerSlot<Job>[] = [];
    this.booting = true;
    for (let i = 0; i < first; i++) slots.push(this.spawn());
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

  dispatch(head: RequestHead, sink: ResponseSink): void | Promise<void> {
    if (!this.started) void this.start().catch((err) => this.opts.log.log('error', 'the thread pool could not start', err));
    if (this.closing) {
      this.counters.shedUnavailable++;
      return this.unavailable.dispatch(head, sink);
    }
    const now = Date.now();
    const waiting = this.queue.length + this.batched;
    // A request an idle thread takes at once does not wait.
    if (waiting >= this.maxQueue + this.idle.length) {
      this.counters.shedQueueFull++;
      return this.overloaded.dispatch(head, sink);
    }
    if (this.maxQueueWaitMs > 0 && waiting > 0 && now - this.oldestWaiting(now) > this.maxQueueWaitMs) {
      this.counters.shedQueueWait++;
      return this.overloaded.dispatch(head, sink);
    }
    const job = new Job(this.nextId++, head, sink, now);
    this.queue.push(job);
    if (this.idle.length > 0) this.schedule();
    else this.ensureCapacity();
    return job.promise;
  }

  /** perRequest: keep one thread booted ahead of the next request. */
  private spare(): void {
    if (this.mode === 'perRequest') this.ensureCapacity();
  }

  /** When the request that has waited longest was queued (`now` when none waits). */
  private oldestWaiting(now: number): number {
    let oldest = this.queue.length > 0 ? this.queue[0].enqueuedAt : now;
    if (this.batched > 0) for (const s of this.slots) if (s.later.length > 0 && s.later[0].enqueuedAt < oldest) oldest = s.later[0].enqueuedAt;
    return oldest;
  }

  /** Hand a batch (usually of one) to an idle thread: it starts the first request at once. */
  private assign(slot: WorkerSlot<Job>, batch: Job[]): void {
    slot.state = 'busy';
    slot.requests += batch.length;
    this.busy++;
    for (const job of batch) job.slot = slot;
    slot.later = batch.slice(1);
    this.batched += slot.later.length;
    slot.batchLength = batch.length;
    if (batch.length > 1) this.counters.batches++;
    slot.claim.reset();
    const first = batch[0];
    this.begin(slot, first);
    const specs: RequestSpec[] = [];
    for (const j of batch) specs.push(j.head.extra === undefined ? [j.id, encodeCgi(j.head.cgi), j.head.body !== null] : [j.id, encodeCgi(j.head.cgi), j.head.body !== null, j.head.extra]);
    slot.post({ t: 'req', batch: specs });
    if (first.head.body !== null) slot.input.start(first.id, first.head.body);
  }

  /** A request starts on its thread, as far as the main thread knows: its clock, relay and time limit start. */
  private begin(slot: WorkerSlot<Job>, job: Job): void {
    slot.job = job;
    job.startedAt = Date.now();
    this.counters.dispatched++;
    if (this.waits.length >= WAIT_SAMPLES) this.waits.shift();
    this.waits.push(job.startedAt - job.enqueuedAt);
    job.relay = new ResponseRelay(job.id, job.sink, (m) => slot.post(m), () => {
      this.counters.completed++;
      job.finish();
    });
    if (this.requestTimeoutMs > 0) {
      job.timer = setTimeout(() => this.onTimeout(job), this.requestTimeoutMs);
      job.timer.unref();
    }
  }

  /**
   * Take back the requests of a slot's batch that its thread has not started, to the front of the queue
   * (they keep their place: they were queued before anything queued now). Returns how many.
   */
  private takeBack(slot: WorkerSlot<Job>): number {
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

  /** The next batch for a thread that may take `room` more requests: its fair share of the queue, bodies alone. */
  private nextBatch(room: number): Job[] {
    const batch: Job[] = [];
    const want = Math.min(this.maxBatch, room, Math.ceil(this.queue.length / this.size));
    while (batch.length < want && this.queue.length > 0) {
      const job = this.queue[0];
      if (job.sink.closed) {
        this.queue.shift();
        job.finish(); // the client gave up while waiting: do not run the app for nobody
        continue;
      }
      // A request body streams over the thread's one input channel while the request runs: such a request
      // goes alone (or ends a batch), never behind another that the channel would have to wait for.
      if (job.head.body !== null && batch.length > 0) break;
      batch.push(this.queue.shift()!);
      if (job.head.body !== null) break;
    }
    return batch;
  }

  private onMessage(slot: WorkerSlot<Job>, m: FromWorker): void {
    if (m.t === 'log') {
      this.opts.log.write(m.line);
      return;
    }
    const job = slot.job;
    if (job === null || !('id' in m) || m.id !== job.id) return;
    if (m.t === 'end' || m.t === 'abort') job.finalReceived = true;
    if (m.t !== 'done') job.relay!.push(m);
    if (m.t === 'done' || ((m.t === 'end' || m.t === 'abort') && m.done === true)) this.onDone(slot, job, m.more === true);
  }

  /** The thread finished the request: it goes on with its batch (`more`), or it is free (or retires). */
  private onDone(slot: WorkerSlot<Job>, job: Job, more: boolean): void {
    clearTimeout(job.timer);
    slot.input.stop();
    slot.job = null;
    if (!job.finalReceived) {
      // serveApp only ends without a response when the client was gone.
      job.relay!.takeOver();
      if (!job.sink.closed) job.sink.abort(new Error('the app finished without a response'));
      job.finish();
    }
    if (more) {
      // The thread took the next request of its batch; the claim counter guarantees it was not taken back.
      const next = slot.later.shift();
      if (next !== undefined) {
        this.batched--;
        this.begin(slot, next);
        return;
      }
      this.opts.log.log('error', `thread ${slot.threadId} reported a request of its batch that the pool does not have; treating the thread as free`);
    }
    this.busy--;
    if (slot.state === 'retiring' || (slot.limit > 0 && slot.requests >= slot.limit)) {
      const reason = slot.state === 'retiring' ? 'reload' : 'maxRequests';
      if (reason === 'maxRequests' && this.mode === 'pool') this.counters.recycled++;
      void slot.stop(reason);
      this.ensureCapacity();
    } else if (slot.state === 'busy') {
      slot.state = 'idle';
      this.idle.push(slot);
    }
    this.schedule();
  }

  /**
   * Hand queued requests to idle threads. When the queue is empty and a thread is idle while another still
   * holds requests of its batch that it has not started (a slow one ahead of them), take those back first.
   */
  private schedule(): void {
    if (this.batched > 0 && this.idle.length > 0) this.takeBackStalled();
    while (this.idle.length > 0 && (this.queue.length > 0 || this.takeBackForIdle())) {
      const slot = this.idle[this.idle.length - 1];
      const batch = this.nextBatch(slot.limit > 0 ? slot.limit - slot.requests : this.maxBatch);
      if (batch.length === 0) continue; // every queued client had gone
      this.idle.pop();
      this.assign(slot, batch);
    }
    this.spare();
    if (this.closing && this.drained !== null && this.queue.length === 0 && this.busy === 0) this.drained();
  }

  /** Take back the unstarted part of every batch whose running request has run past BATCH_STALL_MS. */
  private takeBackStalled(): void {
    const since = Date.now() - BATCH_STALL_MS;
    for (const s of this.slots) if (s.later.length > 0 && s.job !== null && s.job.startedAt < since) this.takeBack(s);
  }

  /** Take back the unstarted part of the largest batch in progress. False when there is none. */
  private takeBackForIdle(): boolean {
    if (this.batched === 0) return false;
    let most: WorkerSlot<Job> | null = null;
    for (const s of this.slots) if (s.later.length > 0 && (most === null || s.later.length > most.later.length)) most = s;
    return most !== null && this.takeBack(most) > 0;
  }

  private onTimeout(job: Job): void {
    const slot = job.slot;
    if (slot === null || slot.job !== job) return;
    this.counters.timeouts++;
    this.opts.log.log('error', `${job.requestLine()} ran past ${this.requestTimeoutMs} ms on thread ${slot.threadId}: terminating the thread and starting a new one`);
    this.abandon(slot, this.timedOut, 'request timeout');
    void slot.stop();
    this.ensureCapacity();
    this.schedule();
  }

  /**
   * A slot's thread is ended while it serves (timeout, crash, grace period over). Its request, and any of
   * its batch it took but had not reported, get `reply` (or their connection cut); the ones it had not
   * taken go back to the queue for another thread.
   */
  private abandon(slot: WorkerSlot<Job>, reply: InlineDispatcher, why: string): void {
    const job = slot.job;
    if (job === null) return;
    this.takeBack(slot);
    clearTimeout(job.timer);
    slot.input.stop();
    slot.job = null;
    this.busy--;
    this.endInPool(job, reply, why);
    for (const taken of slot.later) this.endInPool(taken, reply, why);
    this.batched -= slot.later.length;
    slot.later = [];
  }

  /** The pool answers for a thread that cannot (timeout, crash): an error response, or a cut connection. */
  private endInPool(job: Job, reply: InlineDispatcher, why: string): void {
    if (job.finalReceived) return;
    const relay = job.relay;
    relay?.takeOver();
    if (!job.sink.closed) {
      if (relay === null || !relay.headersSent) void reply.dispatch({ cgi: { ...job.head.cgi }, body: null }, job.sink);
      else job.sink.abort(new TsgiError(why === 'request timeout' ? 'TSGI_ERR_TIMEOUT' : 'TSGI_ERR_PROTOCOL', `${why}: the response was cut short`));
    }
    job.finish();
  }

  private onExit(slot: WorkerSlot<Job>, code: number, error: Error | undefined): void {
    this.slots.delete(slot);
    this.liveThreads--;
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
    const job = slot.job;
    if (!slot.expectedExit) {
      if (!slot.loaded) {
        // start() reports a failure at boot itself; later (a replacement, a reload) the log is the only place.
        if (!this.booting) this.opts.log.log('error', `thread ${slot.threadId} could not load the app`, error);
        this.onBootFailure();
      } else {
        this.counters.crashes++;
        this.opts.log.log('error', `thread ${slot.threadId} ended unexpectedly (exit code ${code})${job !== null ? ` while serving ${job.requestLine()}` : ''}; starting a new one`, error);
      }
    }
    this.abandon(slot, this.crashed, 'the thread serving it ended');
    this.ensureCapacity();
    this.schedule();
  }

  /** A thread could not load the app: retry with backoff, and fail fast while no thread can serve. */
  private onBootFailure(): void {
    this.bootFailures++;
    const usable = [...this.slots].some((s) => s.state === 'idle' || s.state === 'busy' || s.state === 'retiring');
    if (!usable) {
      for (const job of this.queue.splice(0)) {
        this.counters.shedUnavailable++;
        void this.unavailable.dispatch(job.head, job.sink);
        job.finish();
      }
    }
  }

  /** Start threads up to what the mode wants. */
  private ensureCapacity(): void {
    if (!this.started || (this.closing && this.queue.length === 0)) return;
    if (this.spawnTimer !== undefined) return;
    if (this.bootFailures > 0) {
      // Crash-loop guard: 100 ms, 200 ms, ... up to 5 s between attempts to start a thread that cannot load.
      const delay = Math.min(5000, 100 * 2 ** Math.min(this.bootFailures - 1, 6));
      this.spawnTimer = setTimeout(() => {
        this.spawnTimer = undefined;
        this.bootFailures = Math.min(this.bootFailures, 7);
        this.spawnNeeded();
      }, delay);
      this.spawnTimer.unref();
      return;
    }
    this.spawnNeeded();
  }

  private spawnNeeded(): void {
    if (this.closing && this.queue.length === 0) return;
    let active = 0;
    for (const s of this.slots) if (s.state === 'starting' || s.state === 'idle' || s.state === 'busy') active++;
    const want = this.mode === 'pool' ? this.size : Math.min(this.size, this.busy + this.queue.length + 1);
    for (let n = active; n < want; n++) {
      this.spawn();
      if (this.bootFailures > 0) break; // one probe at a time while the app fails to load
    }
  }

  private spawn(): WorkerSlot<Job> {
    const limit = this.maxRequests > 0 ? this.maxRequests + Math.floor(Math.random() * (this.jitter + 1)) : 0;
    const slot = new WorkerSlot<Job>(this.boot, limit, this.generation, {
      message: (s, m) => this.onMessage(s, m),
      exit: (s, code, err) => this.onExit(s, code, err),
    });
    this.slots.add(slot);
    this.liveThreads++;
    this.counters.threadsStarted++;
    slot.ready.then(
      () => {
        if (slot.state !== 'starting') return;
        this.bootFailures = 0;
        slot.state = 'idle';
        this.idle.push(slot);
        this.schedule();
      },
      () => {},
    );
    return slot;
  }

  /** Take a thread out of service: now if idle, after its request if busy. */
  private retire(slot: WorkerSlot<Job>): void {
    if (slot.state === 'idle') {
      const i = this.idle.indexOf(slot);
      if (i >= 0) this.idle.splice(i, 1);
      void slot.stop('reload');
    } else if (slot.state === 'busy') {
      slot.state = 'retiring';
      if (this.takeBack(slot) > 0) this.schedule(); // its unstarted batch goes to the other threads
    }
    else if (slot.state === 'starting') void slot.stop();
  }

  /**
   * Replace every thread with one that loads the app afresh (a new Worker has its own module graph, so
   * changed code is picked up), one at a time: the new thread is ready before the old one leaves, and an
   * old thread finishes its in-flight request first. No request fails. If the new code does not load,
   * rejects with TSGI_ERR_APP_LOAD and the remaining old threads keep serving.
   * perRequest: every request already gets a fresh thread; this only counts the reload.
   */
  reload(): Promise<void> {
    const run = this.reloadChain.then(() => this.replaceAll());
    this.reloadChain = run.catch(() => {});
    return run;
  }

  private async replaceAll(): Promise<void> {
    this.counters.reloads++;
    const gen = ++this.generation;
    // Threads booted before the reload but not ready yet load the old code too: replace them as well.
    const stale = (): WorkerSlot<Job>[] => [...this.slots].filter((s) => s.generation < gen && (s.state === 'idle' || s.state === 'busy' || s.state === 'starting'));
    for (;;) {
      if (this.closing) return;
      const old = stale();
      if (old.length === 0) return;
      if (this.mode === 'perRequest') {
        for (const s of old) this.retire(s);
        this.ensureCapacity();
        return;
      }
      const fresh = this.spawn();
      await fresh.ready; // TSGI_ERR_APP_LOAD: stop here, the old threads keep serving
      const left = stale();
      const victim = left.find((s) => s.state === 'idle') ?? left[0];
      if (victim !== undefined) this.retire(victim);
    }
  }

  /**
   * Stop taking requests (new ones get 503); serve what is queued and in flight, then end every thread
   * (each runs the app's lifecycle end). After `graceMs` (default: no limit) whatever still runs is cut.
   */
  close(graceMs?: number): Promise<void> {
    if (this.closed !== null) return this.closed;
    this.closing = true;
    clearTimeout(this.spawnTimer);
    this.closed = (async () => {
      await this.reloadChain;
      const usable = [...this.slots].some((s) => s.state !== 'stopping');
      if (!usable) this.onBootFailure();
      if (this.queue.length > 0 || this.busy > 0) {
        let timer: NodeJS.Timeout | undefined;
        const drained = new Promise<void>((resolve) => (this.drained = resolve));
        const grace = new Promise<boolean>((resolve) => {
          if (graceMs !== undefined) timer = setTimeout(() => resolve(false), graceMs);
        });
        const inTime = await Promise.race([drained.then(() => true), grace]);
        clearTimeout(timer);
        if (!inTime) {
          this.opts.log.log('warn', `grace period of ${graceMs} ms over: ending ${this.busy} request(s) still running and ${this.queue.length} queued`);
          for (const s of this.slots) {
            this.abandon(s, this.unavailable, 'shutdown'); // what it had not started goes back to the queue
            void s.stop();
          }
          for (const job of this.queue.splice(0)) {
            void this.unavailable.dispatch(job.head, job.sink);
            job.finish();
          }
        }
      }
      await Promise.all([...this.slots].map((s) => s.stop('shutdown')));
    })();
    return this.closed;
  }

  /** A snapshot for metrics and status pages. */
  stats(): ThreadPoolStats {
    const now = Date.now();
    const workers: ThreadStats[] = [];
    let idle = 0;
    let starting = 0;
    for (const s of this.slots) {
      if (s.state === 'idle') idle++;
      else if (s.state === 'starting') starting++;
      const job = s.job;
      workers.push({
        slot: s.serial,
        threadId: s.threadId,
        state: s.state,
        requests: s.requests,
        current: job === null ? null : { requestLine: job.requestLine(), startedAt: job.startedAt },
      });
    }
    return {
      mode: this.mode,
      size: this.size,
      threads: this.liveThreads,
      busy: this.busy,
      idle,
      starting,
      queueLength: this.queue.length + this.batched,
      oldestQueuedMs: now - this.oldestWaiting(now),
      workers,
      queueWaitMs: [...this.waits],
      counters: { ...this.counters },
    };
  }
}

/** Build the threadPool (`mode: 'pool'`) or threading (`mode: 'perRequest'`) dispatcher and start its threads. */
export async function createThreadDispatcher(options: ThreadDispatcherOptions): Promise<ThreadPoolDispatcher> {
  const d = new ThreadPoolDispatcher(options);
  await d.start();
  return d;
}
