/**
 * One pool thread as the main thread sees it: the Worker, its input channel and cache port, its state, the
 * request it is serving. The Dispatcher (thread-pool.ts) decides what a slot does; this file only starts,
 * wires and stops the thread.
 */
import { MessageChannel, Worker, type ResourceLimits } from 'node:worker_threads';
import { TsgiError } from '../../app-api/errors.js';
import type { AppSpec } from '../app-loader.js';
import { BatchClaim } from './batch-claim.js';
import type { FromWorker, StopReason, ToWorker, WorkerBoot } from './channel.js';
import { attachCachePort, detachCachePort } from './shared-cache.js';
import { InputWriter } from './sync-input.js';

const WORKER_URL = new URL('./worker-main.js', import.meta.url);

/**
 * - starting: loading the app; idle: waiting for a request; busy: serving one;
 * - retiring: serving its last request (reload, maxRequests), stops after it;
 * - stopping: terminate() was called or the thread ended; it takes nothing more.
 */
export type SlotState = 'starting' | 'idle' | 'busy' | 'retiring' | 'stopping';

/** What every thread of one dispatcher is started with. */
export interface SlotBoot {
  app: AppSpec;
  cwd: string;
  features: string[];
  /** The config's tools and the pool mode, for gateway/tools/apply.ts in the thread. */
  tools?: WorkerBoot['tools'];
  mode?: WorkerBoot['mode'];
  appConfig: Record<string, string>;
  multiprocess: boolean;
  window: number;
  resourceLimits?: ResourceLimits;
}

/** Callbacks into the dispatcher. */
export interface SlotEvents<J> {
  message(slot: WorkerSlot<J>, m: FromWorker): void;
  exit(slot: WorkerSlot<J>, code: number, error: Error | undefined): void;
}

let serial = 0;

/** A pool thread. `J` is the dispatcher's job type. */
export class WorkerSlot<J> {
  readonly worker: Worker;
  readonly threadId: number;
  /** A short number for logs and stats (thread ids grow without bound as threads are replaced). */
  readonly serial = ++serial;
  state: SlotState = 'starting';
  /** Requests served (counted when assigned). */
  requests = 0;
  /** The request it is serving (the first of its batch not yet done). */
  job: J | null = null;
  /** The rest of its batch, in order: requests handed to it that it has not reported started. */
  later: J[] = [];
  /** Length of the batch last posted (the claim counter counts into it). */
  batchLength = 0;
  /** How many requests of its batch the thread has taken (shared with the thread). */
  readonly claim: BatchClaim;
  /** True once the app is loaded in the thread. */
  loaded = false;
  /** The dispatcher expects this thread to end (it asked it to): its exit is not a crash. */
  expectedExit = false;
  readonly input: InputWriter;
  /** Resolves when the app is loaded; rejects with TSGI_ERR_APP_LOAD (or the crash) if it never is. */
  readonly ready: Promise<void>;
  /** Resolves when the thread has ended. */
  readonly exited: Promise<void>;
  private settleReady!: (err?: Error) => void;
  private loadError: Error | undefined;

  constructor(boot: SlotBoot, readonly limit: number, readonly generation: number, events: SlotEvents<J>) {
    const input = new MessageChannel();
    const cache = new MessageChannel();
    const inputSignal = new SharedArrayBuffer(4);
    const batchClaim = new SharedArrayBuffer(4);
    const cacheEpoch = attachCachePort(cache.port1);
    const data: WorkerBoot = {
      app: boot.app,
      cwd: boot.cwd,
      features: boot.features,
      tools: boot.tools,
      mode: boot.mode,
      appConfig: boot.appConfig,
      multiprocess: boot.multiprocess,
      window: boot.window,
      inputPort: input.port2,
      inputSignal,
      cachePort: cache.port2,
      cacheEpoch,
      batchClaim,
    };
    this.worker = new Worker(WORKER_URL, { workerData: data, transferList: [input.port2, cache.port2], resourceLimits: boot.resourceLimits });
    this.threadId = this.worker.threadId;
    this.input = new InputWriter(input.port1, inputSignal, boot.window);
    this.claim = new BatchClaim(batchClaim);
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err === undefined ? resolve() : reject(err));
    });
    this.ready.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
    let crash: Error | undefined;
    this.worker.on('message', (m: FromWorker) => {
      if (m.t === 'ready') {
        this.loaded = true;
        return this.settleReady();
      }
      if (m.t === 'loadError') {
        this.loadError = new TsgiError('TSGI_ERR_APP_LOAD', m.message);
        return;
      }
      events.message(this, m);
    });
    this.worker.on('error', (err) => (crash = err));
    this.exited = new Promise<void>((resolve) => {
      this.worker.on('exit', (code) => {
        this.state = 'stopping';
        this.input.close();
        detachCachePort(cache.port1);
        const why = this.loadError ?? crash ?? new Error(`thread ${this.threadId} exited with code ${code} before it was ready`);
        this.settleReady(why);
        events.exit(this, code, this.loadError ?? crash);
        resolve();
      });
    });
  }

  /** Send a control message to the thread. */
  post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  /**
   * End the thread. With a reason (an idle thread being retired), the app's lifecycle listeners run first
   * (`reload`, `graceful`, `stop`, `exit`), bounded by `graceMs`; without one (stuck, crashed, still
   * booting) the thread is terminated at once.
   */
  stop(reason?: StopReason, graceMs = 5000): Promise<void> {
    if (this.expectedExit) return this.exited;
    this.expectedExit = true;
    this.state = 'stopping';
    if (reason === undefined || !this.loaded) {
      void this.worker.terminate();
      return this.exited;
    }
    this.post({ t: 'stop', reason });
    const timer = setTimeout(() => void this.worker.terminate(), graceMs);
    timer.unref();
    return this.exited.finally(() => clearTimeout(timer));
  }
}
