/**
 * One pool thread as the main thread sees it: the Worker, its input channel and cache port, the request it
 * is serving and the rest of its batch. Its lifecycle (booting, ready = idle, busy, draining, exited; the
 * `ready` and `exited` promises) is the shared one of gateway/workers/slot.ts. The dispatcher's parts
 * (scheduler.ts, supervisor.ts) decide what a slot does; this file only starts, wires and stops the thread.
 */
import { MessageChannel, Worker, type ResourceLimits } from 'node:worker_threads';
import { TsgiError } from '../../app-api/errors.js';
import type { AppSpec } from '../app-loader.js';
import { Slot } from '../workers/slot.js';
import { BatchClaim } from './batch-claim.js';
import type { FromWorker, RequestBatch, StopReason, ToWorker, WorkerBoot } from './channel.js';
import { handoffCell, HandoffSender } from './handoff.js';
import type { ThreadState } from './options.js';
import { attachCachePort, detachCachePort } from './shared-cache.js';
import { InputWriter } from './sync-input.js';

const WORKER_URL = new URL('./worker-main.js', import.meta.url);

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
  /** How long an idle thread waits for its next batch before going back to its event loop (handoff.ts). */
  handoffWaitMs: number;
}

/** Callbacks into the dispatcher. */
export interface SlotEvents<J> {
  message(slot: ThreadSlot<J>, m: FromWorker): void;
  exit(slot: ThreadSlot<J>, code: number, error: Error | undefined): void;
}

/** How a thread ended. */
export interface ThreadExit {
  code: number;
  error: Error | undefined;
}

let serial = 0;

/** A pool thread. `J` is the dispatcher's job type. */
export class ThreadSlot<J> extends Slot<ThreadExit> {
  readonly worker: Worker;
  readonly threadId: number;
  /** A short number for logs and stats (thread ids grow without bound as threads are replaced). */
  readonly serial = ++serial;
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
  readonly input: InputWriter;
  private readonly handoff: HandoffSender;
  private loadError: Error | undefined;

  constructor(boot: SlotBoot, readonly limit: number, readonly generation: number, events: SlotEvents<J>) {
    super();
    const input = new MessageChannel();
    const cache = new MessageChannel();
    const requests = new MessageChannel();
    const handoff = handoffCell();
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
      requestPort: requests.port2,
      handoff,
      handoffWaitMs: boot.handoffWaitMs,
    };
    this.worker = new Worker(WORKER_URL, { workerData: data, transferList: [input.port2, cache.port2, requests.port2], resourceLimits: boot.resourceLimits });
    this.handoff = new HandoffSender(requests.port1, handoff, () => this.post({ t: 'wake' }));
    this.threadId = this.worker.threadId;
    this.input = new InputWriter(input.port1, inputSignal, boot.window);
    this.claim = new BatchClaim(batchClaim);
    let crash: Error | undefined;
    this.worker.on('message', (m: FromWorker) => {
      if (m.t === 'ready') return this.markReady();
      if (m.t === 'loadError') {
        // The thread built this message (the loader's template) before it failed; it is carried over as is.
        this.loadError = new TsgiError('TSGI_ERR_APP_LOAD', m.message);
        return;
      }
      if (m.t === 'many') for (const part of m.parts) events.message(this, part);
      else events.message(this, m);
    });
    this.worker.on('error', (err) => (crash = err));
    this.worker.on('exit', (code) => {
      this.input.close();
      this.handoff.close();
      detachCachePort(cache.port1);
      const error = this.loadError ?? crash;
      this.markExited({ code, error }, () => error ?? new Error(`thread ${this.threadId} exited with code ${code} before it was ready`));
      events.exit(this, code, error);
    });
  }

  /** Serving its last request (reload, maxRequests): it takes no more and is stopped after it. */
  get retiring(): boolean {
    return this.phase === 'draining' && !this.expectedExit;
  }

  /** Mark it as serving its last request. */
  retireAfterRequest(): void {
    if (this.phase === 'busy') this.phase = 'draining';
  }

  /** The state the stats report (the names of the status page and the metrics). */
  get state(): ThreadState {
    switch (this.phase) {
      case 'booting':
        return 'starting';
      case 'ready':
        return 'idle';
      case 'busy':
        return 'busy';
      case 'draining':
        return this.expectedExit ? 'stopping' : 'retiring';
      default:
        return 'stopping';
    }
  }

  /** Hand the thread a batch of requests (handoff.ts). */
  sendBatch(batch: RequestBatch): void {
    this.handoff.send(batch);
  }

  /**
   * Send a control message to the thread. A stop goes to an idle thread, which may be waiting for a batch
   * (handoff.ts): it is sent back to its event loop to read it. The others concern a request that is in
   * flight, which the thread serves in its event loop.
   */
  post(m: ToWorker): void {
    this.worker.postMessage(m);
    if (m.t === 'stop') this.handoff.interrupt();
  }

  /**
   * End the thread. With a reason (an idle thread being retired), the app's lifecycle listeners run first
   * (`reload`, `graceful`, `stop`, `exit`), bounded by `graceMs`; without one (stuck, crashed, still
   * booting) the thread is terminated at once.
   */
  stop(reason?: StopReason, graceMs = 5000): Promise<void> {
    const exited = this.exited.then(() => {});
    if (this.expectedExit) return exited;
    this.markDraining();
    if (reason === undefined || !this.loaded) {
      void this.worker.terminate();
      return exited;
    }
    this.post({ t: 'stop', reason });
    const timer = setTimeout(() => void this.worker.terminate(), graceMs);
    timer.unref();
    return exited.finally(() => clearTimeout(timer));
  }
}
