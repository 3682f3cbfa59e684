/**
 * The dispatcher of a worker process: the real dispatcher, plus what the supervisor needs to know and
 * enforce per process: how many requests are in flight (drain), how many were served (maxRequests), and a
 * per-request deadline (workerTimeout) after which the client gets 504 instead of waiting forever. Also the
 * admission of the event-loop modes (single, processPool): past `maxInFlight` requests at once, or while the
 * event loop runs later than the queue wait (loop-delay.ts), a request is answered 503 with Retry-After at
 * once, as the thread modes answer past their queue (gateway/threads/admission.ts).
 */
import { tsgiError, TsgiError } from '../../app-api/errors.js';
import type { App, HeaderList } from '../../app-api/types.js';
import { InlineDispatcher, type Dispatcher, type RequestHead } from '../core/dispatch.js';
import type { ErrorLog } from '../core/log.js';
import type { ResponseSink } from '../core/sink.js';
import { LoopDelay } from '../workers/loop-delay.js';

const TIMEOUT_BODY = Buffer.from('Gateway Timeout: the application did not answer in time.\n');

/**
 * A sink that can be taken away from the app: once expired, the client has its 504 (or its connection was
 * cut) and everything the app still sends is dropped; `closed` tells the core to stop and close the body.
 */
class DeadlineSink implements ResponseSink {
  private started = false;
  private expired = false;
  constructor(private readonly inner: ResponseSink) {}

  get closed(): boolean {
    return this.expired || this.inner.closed;
  }
  start(code: number, reason: string, headers: HeaderList): void {
    if (this.expired) return;
    this.started = true;
    this.inner.start(code, reason, headers);
  }
  write(chunk: Buffer): void | Promise<void> {
    if (!this.expired) return this.inner.write(chunk);
  }
  end(last?: Buffer): void {
    if (!this.expired) this.inner.end(last);
  }
  abort(err: Error): void {
    if (!this.expired) this.inner.abort(err);
  }

  /** The deadline passed: answer 504 if nothing was sent yet, else cut the response (it cannot complete). */
  expire(ms: number): void {
    if (this.expired) return;
    this.expired = true;
    if (this.inner.closed) return;
    if (!this.started) {
      this.inner.start(504, 'Gateway Timeout', [
        ['Content-Type', 'text/plain; charset=utf-8'],
        ['Content-Length', String(TIMEOUT_BODY.length)],
      ]);
      this.inner.end(TIMEOUT_BODY);
    } else {
      this.inner.abort(tsgiError('TSGI_ERR_TIMEOUT', { problem: `the response took longer than the worker timeout (${ms} ms)`, limit: 'workerTimeout' }));
    }
  }
}

/** Options of a WorkerDispatcher. */
export interface WorkerDispatcherOptions {
  log: ErrorLog;
  /** Per-request deadline in ms; 0 = none. */
  timeoutMs: number;
  /** Called when a request ran past its deadline (the process should be replaced). */
  onTimeout?: (cgi: RequestHead['cgi']) => void;
  /** Called after each request with the number served so far. */
  onServed?: (served: number) => void;
  /** Most requests in flight at once (the `maxInFlight` option); one more is answered 503 at once. 0 = no limit. */
  maxInFlight?: number;
  /**
   * Queue wait, ms (the `threadQueueWait` option): a request read while the event loop runs later than
   * this has waited at least that long unseen, and is answered 503 at once instead of served late. 0 = off.
   */
  queueWaitMs?: number;
}

/** At most one overload log line per this many ms. */
const OVERLOAD_LOG_EVERY_MS = 10_000;

/** The 503 a process answers past maxInFlight: made from a TSGI_ERR_OVERLOAD error, with Retry-After. */
function overloadApp(err: TsgiError): App {
  const body = Buffer.from(`Service Unavailable: ${err.message}\n`);
  return (_environ, startResponse) => {
    startResponse('503 Service Unavailable', [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Retry-After', '1'],
    ]);
    return [body];
  };
}

/** Counts, deadlines, and "wait until idle" around a dispatcher. */
export class WorkerDispatcher implements Dispatcher {
  private inflight = 0;
  private served = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly maxInFlight: number;
  private readonly overload: InlineDispatcher | null;
  private readonly late: InlineDispatcher | null;
  private readonly loop: LoopDelay | null;
  private readonly queueWaitMs: number;
  private shedSinceLog = 0;
  private lastShedLog = 0;
  /** Requests answered 503 at once (maxInFlight, threadQueueWait). */
  shed = 0;

  constructor(private readonly inner: Dispatcher, private readonly opts: WorkerDispatcherOptions) {
    this.maxInFlight = opts.maxInFlight ?? 0;
    const err = tsgiError('TSGI_ERR_OVERLOAD', { problem: `this process already runs ${this.maxInFlight} request(s) (maxInFlight)`, limit: 'maxInFlight or the number of processes' });
    this.overload = this.maxInFlight > 0 ? new InlineDispatcher(overloadApp(err), { log: opts.log }) : null;
    this.queueWaitMs = opts.queueWaitMs ?? 0;
    const lateErr = tsgiError('TSGI_ERR_OVERLOAD', { problem: `this request waited behind an event loop running more than ${this.queueWaitMs} ms late (threadQueueWait): answered now rather than served late`, limit: 'threadQueueWait or the number of processes' });
    this.late = this.queueWaitMs > 0 ? new InlineDispatcher(overloadApp(lateErr), { log: opts.log }) : null;
    // Ticks at a quarter of the limit (10 ms to 250 ms): a delay past the limit is seen within a quarter of it.
    this.loop = this.queueWaitMs > 0 ? new LoopDelay(Math.max(10, Math.min(250, Math.floor(this.queueWaitMs / 4)))) : null;
  }

  /** Requests the app is working on now (a timed-out request counts until the app really returns). */
  get inFlight(): number {
    return this.inflight;
  }

  dispatch(head: RequestHead, sink: ResponseSink): void | Promise<void> {
    if (this.overload !== null && this.inflight >= this.maxInFlight) return this.refuse(this.overload, 'maxInFlight', head, sink);
    if (this.loop !== null && this.loop.lateMs > this.queueWaitMs) return this.refuse(this.late!, 'threadQueueWait', head, sink);
    this.inflight++;
    const timeoutMs = this.opts.timeoutMs;
    if (timeoutMs <= 0) return this.track(this.inner.dispatch(head, sink));

    const guarded = new DeadlineSink(sink);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.opts.log.log('error', `${head.cgi.REQUEST_METHOD} ${head.cgi.SCRIPT_NAME}${head.cgi.PATH_INFO} ran past the worker timeout (${timeoutMs} ms): answered 504${this.opts.onTimeout !== undefined ? '; this worker will be replaced' : ''}`);
        guarded.expire(timeoutMs);
        this.opts.onTimeout?.(head.cgi);
        resolve();
      }, timeoutMs);
    });
    const done = this.track(this.inner.dispatch(head, guarded), () => clearTimeout(timer));
    if (done === undefined) return;
    // The front is released at the deadline even though the app may never return.
    return Promise.race([done, deadline]);
  }

  private track(result: void | Promise<void>, after?: () => void): void | Promise<void> {
    const finish = (): void => {
      after?.();
      this.inflight--;
      this.served++;
      this.opts.onServed?.(this.served);
      if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
    if (result === undefined || typeof (result as Promise<void>).then !== 'function') {
      finish();
      return;
    }
    return (result as Promise<void>).then(finish, (err) => {
      this.opts.log.log('error', 'the dispatcher failed', err);
      finish();
    });
  }

  /** Overload (maxInFlight, threadQueueWait): 503 with Retry-After at once, logged once per burst. */
  private refuse(answer: InlineDispatcher, why: 'maxInFlight' | 'threadQueueWait', head: RequestHead, sink: ResponseSink): void | Promise<void> {
    this.shed++;
    this.shedSinceLog++;
    const now = Date.now();
    if (now - this.lastShedLog >= OVERLOAD_LOG_EVERY_MS) {
      const state = why === 'maxInFlight' ? `${this.maxInFlight} request(s) in flight (maxInFlight)` : `the event loop ran ${this.loop!.lateMs} ms late (threadQueueWait ${this.queueWaitMs} ms)`;
      this.opts.log.log('warn', `TSGI_ERR_OVERLOAD: ${state}; ${this.shedSinceLog} request(s) answered 503 with Retry-After since the last such line`);
      this.lastShedLog = now;
      this.shedSinceLog = 0;
    }
    return answer.dispatch({ cgi: head.cgi, body: null }, sink);
  }

  /** Resolves when no request is in flight, or after `maxMs`. */
  whenIdle(maxMs: number): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, maxMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.loop?.stop();
    return this.inner.close();
  }
}
