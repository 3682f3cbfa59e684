/**
 * The worker-thread concurrency models, as one Dispatcher on the main thread:
 *
 * - `threadPool=N` (mode 'pool'): N threads started at boot, each loading the app. The main thread owns the
 *   sockets and hands each request to an idle thread; when all are busy, requests wait in a bounded queue.
 * - `threading=1` (mode 'perRequest'): a new thread for every request, ended after it.
 *
 * The difference is a policy object (policy.ts), not branches. The parts: admission.ts (may a request wait,
 * and the 503 when not), scheduler.ts (the queue, batches, take-back), supervisor.ts (the threads: start,
 * replace, recycle, reload), stats.ts. This file joins them and carries each request: it posts the request
 * to its thread, relays the response (response-proxy.ts), applies the time limit, and answers for a thread
 * that cannot (504 after a timeout, 500 after a crash).
 *
 * A request crosses to its thread as plain CGI variables; the body follows as transferable chunks within a
 * credit window, and the response comes back the same way (sync-input.ts, response-proxy.ts). The environ,
 * header validation and framing happen in the thread, in the same gateway core as single mode.
 */
import { tsgiError } from '../../app-api/errors.js';
import type { App } from '../../app-api/types.js';
import { parseAppSpec } from '../app-loader.js';
import { InlineDispatcher, type Dispatcher, type RequestHead } from '../core/dispatch.js';
import type { ResponseSink } from '../core/sink.js';
import { Admission } from './admission.js';
import { DEFAULT_WINDOW, encodeCgi, type FromWorker, type RequestSpec } from './channel.js';
import { Job } from './job.js';
import type { ThreadDispatcherOptions, ThreadMode, ThreadPoolStats } from './options.js';
import { policyOf, type ThreadPolicy } from './policy.js';
import { ResponseRelay } from './response-proxy.js';
import { Scheduler } from './scheduler.js';
import { PoolStats } from './stats.js';
import { ThreadSupervisor } from './supervisor.js';
import type { ThreadSlot } from './thread-slot.js';

export type { ThreadDispatcherOptions, ThreadPoolStats, ThreadStats } from './options.js';

/** Default for the most queued requests handed to one thread in one message (batch-claim.ts says why). */
const MAX_BATCH = 16;
/**
 * A batch's unstarted requests wait behind a request that has run this long only until a thread frees: that
 * thread takes them back before anything newer in the queue. Batches are for requests much shorter than this.
 */
const BATCH_STALL_MS = 2;

type PoolJob = Job<Slot>;
type Slot = ThreadSlot<PoolJob>;

function statusApp(status: string, message: string): App {
  const body = Buffer.from(message + '\n');
  return (_environ, startResponse) => {
    startResponse(status, [['Content-Type', 'text/plain; charset=utf-8']]);
    return [body];
  };
}

/** The threadPool / threading dispatcher. Call `start()` before serving. */
export class ThreadPoolDispatcher implements Dispatcher {
  readonly mode: ThreadMode;
  readonly size: number;
  private readonly policy: ThreadPolicy;
  private readonly maxBatch: number;
  private readonly requestTimeoutMs: number;
  private readonly admission: Admission;
  private readonly scheduler: Scheduler<PoolJob, Slot>;
  private readonly supervisor: ThreadSupervisor<PoolJob>;
  private readonly stat = new PoolStats();
  private nextId = 1;
  private busy = 0;
  /** A scheduling round is due at the end of this turn (scheduleSoon). */
  private scheduled = false;
  private closed: Promise<void> | null = null;
  private drained: (() => void) | null = null;
  private readonly timedOut: InlineDispatcher;
  private readonly crashed: InlineDispatcher;

  constructor(private readonly opts: ThreadDispatcherOptions) {
    this.policy = policyOf(opts.mode ?? 'pool');
    this.mode = this.policy.mode;
    this.size = opts.size ?? this.policy.defaultSize;
    if (!Number.isInteger(this.size) || this.size < 1) throw tsgiError('TSGI_ERR_CONFIG', { where: 'thread dispatcher', problem: `size is ${this.size}`, fix: 'give a whole number >= 1' });
    this.maxBatch = opts.maxBatch ?? MAX_BATCH;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw tsgiError('TSGI_ERR_CONFIG', { where: 'thread dispatcher', problem: `maxBatch is ${this.maxBatch}`, fix: 'give a whole number >= 1' });
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 0;
    this.admission = new Admission({ maxQueue: opts.maxQueue ?? 256, maxQueueWaitMs: opts.maxQueueWaitMs ?? 0, retryAfterSeconds: opts.retryAfterSeconds ?? 1 }, opts.log);
    this.scheduler = new Scheduler<PoolJob, Slot>(this.maxBatch, () => this.size, () => this.supervisor.slots, BATCH_STALL_MS);
    const boot = {
      app: typeof opts.app === 'string' ? parseAppSpec(opts.app) : opts.app,
      cwd: opts.cwd ?? process.cwd(),
      features: opts.features ?? [],
      tools: opts.tools,
      mode: this.mode,
      appConfig: { ...(opts.appConfig ?? {}) },
      multiprocess: opts.multiprocess === true,
      window: opts.window ?? DEFAULT_WINDOW,
      resourceLimits: opts.resourceLimits,
      handoffWaitMs: opts.handoffWaitMs ?? this.policy.handoffWaitMs,
    };
    const limits = { maxRequests: this.policy.maxRequests(opts.maxRequests ?? 0), jitter: this.policy.jitter(opts.maxRequestsJitter ?? 0) };
    this.supervisor = new ThreadSupervisor<PoolJob>(this.policy, this.size, boot, limits, opts.log, this.stat.counters, {
      message: (slot, m) => this.onMessage(slot, m),
      ready: (slot) => {
        this.scheduler.addIdle(slot);
        this.schedule();
      },
      exit: (slot) => this.onExit(slot),
      retired: (slot) => {
        if (this.scheduler.takeBack(slot) > 0) this.schedule(); // its unstarted batch goes to the other threads
      },
      unusable: () => this.refuseQueued(),
    }, () => ({ busy: this.busy, queued: this.scheduler.queue.length }));
    const inline = (app: App): InlineDispatcher => new InlineDispatcher(app, { log: opts.log });
    this.timedOut = inline(statusApp('504 Gateway Timeout', 'Gateway Timeout: the request ran past its time limit'));
    this.crashed = inline(statusApp('500 Internal Server Error', 'Internal Server Error'));
  }

  /**
   * Start the threads and wait until each has loaded the app (perRequest: one, to check the app loads).
   * Rejects with TSGI_ERR_APP_LOAD when the app cannot be loaded; no thread is left running then.
   */
  start(): Promise<void> {
    return this.supervisor.start();
  }

  dispatch(head: RequestHead, sink: ResponseSink): void | Promise<void> {
    const sup = this.supervisor;
    if (!sup.started) void this.start().catch((err) => this.opts.log.log('error', 'the thread pool could not start', err));
    const now = Date.now();
    const sch = this.scheduler;
    const shed = this.admission.check({ closing: sup.closing, waiting: sch.waiting, idle: sch.idle.length, oldestEnqueuedAt: (t) => sch.oldestEnqueuedAt(t) }, now);
    if (shed !== null) {
      this.stat.shed(shed);
      return this.admission.refuse(shed, head, sink);
    }
    const job: PoolJob = new Job(this.nextId++, head, sink, now);
    sch.queue.push(job);
    if (sch.idle.length > 0) this.scheduleSoon();
    else sup.ensureCapacity();
    return job.promise;
  }

  /**
   * Schedule once at the end of this event-loop turn (the check phase, after the poll phase that read the
   * sockets and the threads' messages): the requests that arrived in this turn go to the idle threads as
   * one batch per thread instead of a wake-up each.
   */
  private scheduleSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.scheduleNow);
  }

  private readonly scheduleNow = (): void => {
    this.scheduled = false;
    this.schedule();
  };

  /** Hand queued requests to idle threads; keep the threads the policy wants; tell close() when drained. */
  private schedule(): void {
    this.scheduler.run((slot, batch) => this.assign(slot, batch));
    if (this.policy.bootsAhead) this.supervisor.ensureCapacity();
    if (this.supervisor.closing && this.drained !== null && this.scheduler.queue.length === 0 && this.busy === 0) this.drained();
  }

  /** Post a batch (usually of one) to its thread: it starts the first request at once. */
  private assign(slot: Slot, batch: PoolJob[]): void {
    slot.phase = 'busy';
    this.busy++;
    const first = batch[0];
    this.begin(slot, first);
    const specs: RequestSpec[] = [];
    for (const j of batch) specs.push(j.head.extra === undefined ? [j.id, encodeCgi(j.head.cgi), j.head.body !== null] : [j.id, encodeCgi(j.head.cgi), j.head.body !== null, j.head.extra]);
    slot.sendBatch({ t: 'req', batch: specs });
    if (first.head.body !== null) slot.input.start(first.id, first.head.body);
  }

  /** A request starts on its thread, as far as the main thread knows: its clock, relay and time limit start. */
  private begin(slot: Slot, job: PoolJob): void {
    slot.job = job;
    job.startedAt = Date.now();
    this.stat.started(job.startedAt - job.enqueuedAt);
    job.relay = new ResponseRelay(job.id, job.sink, (m) => slot.post(m), () => {
      this.stat.counters.completed++;
      job.finish();
    });
    const gone = job.head.clientGone;
    if (gone !== undefined) {
      // Forwarded to the thread, which aborts the app's tsgi.client_gone (posted after the request itself).
      const tell = (why: string): void => {
        if (slot.job === job && !job.finalReceived) slot.post({ t: 'left', id: job.id, why });
      };
      if (gone.isGone) queueMicrotask(() => tell(gone.why));
      else gone.onGone = tell;
    }
    if (this.requestTimeoutMs > 0) {
      job.timer = setTimeout(() => this.onTimeout(job), this.requestTimeoutMs);
      job.timer.unref();
    }
  }

  private onMessage(slot: Slot, m: FromWorker): void {
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
  private onDone(slot: Slot, job: PoolJob, more: boolean): void {
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
      const next = this.scheduler.advance(slot);
      if (next !== undefined) {
        this.begin(slot, next);
        return;
      }
      this.opts.log.log('error', `thread ${slot.threadId} reported a request of its batch that the pool does not have; treating the thread as free`);
    }
    this.busy--;
    if (!this.supervisor.afterRequests(slot) && slot.phase === 'ready') this.scheduler.addIdle(slot);
    this.scheduleSoon();
  }

  private onTimeout(job: PoolJob): void {
    const slot = job.slot;
    if (slot === null || slot.job !== job) return;
    this.stat.counters.timeouts++;
    this.opts.log.log('error', `${job.requestLine()} ran past ${this.requestTimeoutMs} ms on thread ${slot.threadId}: terminating the thread and starting a new one`);
    this.abandon(slot, this.timedOut, 'request timeout');
    this.supervisor.terminate(slot);
    this.schedule();
  }

  /**
   * A slot's thread is ended while it serves (timeout, crash, grace period over). Its request, and any of
   * its batch it took but had not reported, get `reply` (or their connection cut); the ones it had not
   * taken go back to the queue for another thread.
   */
  private abandon(slot: Slot, reply: InlineDispatcher | null, why: string): void {
    const job = slot.job;
    if (job === null) return;
    const taken = this.scheduler.release(slot);
    clearTimeout(job.timer);
    slot.input.stop();
    slot.job = null;
    this.busy--;
    this.endInPool(job, reply, why);
    for (const t of taken) this.endInPool(t, reply, why);
  }

  /** The pool answers for a thread that cannot (timeout, crash): an error response, or a cut connection. */
  private endInPool(job: PoolJob, reply: InlineDispatcher | null, why: string): void {
    if (job.finalReceived) return;
    const relay = job.relay;
    relay?.takeOver();
    if (!job.sink.closed) {
      if (relay === null || !relay.headersSent) void (reply === null ? this.admission.refuse('unavailable', { cgi: { ...job.head.cgi }, body: null }, job.sink) : reply.dispatch({ cgi: { ...job.head.cgi }, body: null }, job.sink));
      else {
        const cut = `${why}: the response was cut short`;
        job.sink.abort(why === 'request timeout' ? tsgiError('TSGI_ERR_TIMEOUT', { problem: cut, limit: 'workerTimeout' }) : tsgiError('TSGI_ERR_PROTOCOL', { protocol: 'thread pool', problem: cut }));
      }
    }
    job.finish();
  }

  private onExit(slot: Slot): void {
    this.scheduler.removeIdle(slot);
    this.abandon(slot, this.crashed, 'the thread serving it ended');
    this.schedule();
  }

  /** No thread can serve: everything queued gets 503 at once. */
  private refuseQueued(): void {
    for (const job of this.scheduler.clear()) {
      this.stat.shed('unavailable');
      void this.admission.refuse('unavailable', job.head, job.sink);
      job.finish();
    }
  }

  /**
   * Replace every thread with one that loads the app afresh (a new Worker has its own module graph, so
   * changed code is picked up), one at a time: the new thread is ready before the old one leaves, and an
   * old thread finishes its in-flight request first. No request fails. If the new code does not load,
   * rejects with TSGI_ERR_APP_LOAD and the remaining old threads keep serving.
   * perRequest: every request already gets a fresh thread; the threads there retire after their request.
   */
  reload(): Promise<void> {
    return this.supervisor.reload((slot) => this.scheduler.removeIdle(slot));
  }

  /**
   * Stop taking requests (new ones get 503); serve what is queued and in flight, then end every thread
   * (each runs the app's lifecycle end). After `graceMs` (default: no limit) whatever still runs is cut.
   */
  close(graceMs?: number): Promise<void> {
    if (this.closed !== null) return this.closed;
    const sup = this.supervisor;
    const done = sup.close();
    this.closed = (async () => {
      await done;
      // No thread that is not on its way out: nothing will serve the queue.
      if (![...sup.slots].some((s) => s.phase !== 'exited' && !s.expectedExit)) sup.onBootFailure();
      if (this.scheduler.queue.length > 0 || this.busy > 0) {
        let timer: NodeJS.Timeout | undefined;
        const drained = new Promise<void>((resolve) => (this.drained = resolve));
        const grace = new Promise<boolean>((resolve) => {
          if (graceMs !== undefined) timer = setTimeout(() => resolve(false), graceMs);
        });
        const inTime = await Promise.race([drained.then(() => true), grace]);
        clearTimeout(timer);
        if (!inTime) {
          this.opts.log.log('warn', `grace period of ${graceMs} ms over: ending ${this.busy} request(s) still running and ${this.scheduler.queue.length} queued`);
          for (const s of sup.slots) {
            this.abandon(s, null, 'shutdown'); // what it had not started goes back to the queue
            void s.stop();
          }
          this.refuseQueued();
        }
      }
      await sup.stopAll();
    })();
    return this.closed;
  }

  /** A snapshot for metrics and status pages. */
  stats(): ThreadPoolStats {
    const now = Date.now();
    return this.stat.snapshot({
      mode: this.policy.mode,
      size: this.size,
      threads: this.supervisor.live,
      busy: this.busy,
      slots: this.supervisor.slots,
      waiting: this.scheduler.waiting,
      oldestWaitMs: now - this.scheduler.oldestEnqueuedAt(now),
      sched: this.scheduler.counters,
    });
  }
}

/** Build the threadPool (`mode: 'pool'`) or threading (`mode: 'perRequest'`) dispatcher and start its threads. */
export async function createThreadDispatcher(options: ThreadDispatcherOptions): Promise<ThreadPoolDispatcher> {
  const d = new ThreadPoolDispatcher(options);
  await d.start();
  return d;
}
