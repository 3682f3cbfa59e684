/**
 * Admission control of the thread dispatcher: whether a new request may wait for a thread, and the answer
 * when it may not. A request is shed (503 with Retry-After, at once: never a hang)
 *
 * - when the queue is full (`maxQueue` requests wait and no thread is idle),
 * - while the oldest waiting request has waited longer than `maxQueueWaitMs` (the queue is not draining:
 *   adding to it only makes everyone late),
 * - while the dispatcher shuts down or no thread can load the app.
 *
 * The first two are overload: the answer is made from a TsgiError TSGI_ERR_OVERLOAD with status 503, which
 * is also what the error log says (one line at most every LOG_EVERY_MS, with how many were shed, so an
 * overload does not also flood the log).
 */
import { STATUS_CODES } from 'node:http';
import { tsgiError, TsgiError } from '../../app-api/errors.js';
import type { App, HeaderList } from '../../app-api/types.js';
import { InlineDispatcher, type RequestHead } from '../core/dispatch.js';
import type { ErrorLog } from '../core/log.js';
import type { ResponseSink } from '../core/sink.js';

/** Why a request was not admitted. */
export type ShedCause = 'queueFull' | 'queueWait' | 'unavailable';

/** The limits admission applies. Times in ms; 0 turns the wait limit off. */
export interface AdmissionLimits {
  /** Requests that may wait for a thread beyond those an idle thread takes at once. */
  maxQueue: number;
  /** While the oldest waiting request has waited longer than this, new ones are shed. */
  maxQueueWaitMs: number;
  /** Retry-After seconds on every 503. */
  retryAfterSeconds: number;
}

/** What admission looks at, read from the dispatcher when a request arrives. */
export interface QueueView {
  /** The dispatcher takes no new requests (closing, or no thread can serve). */
  closing: boolean;
  /** Requests waiting for a thread (queued, or handed in a batch and not started). */
  waiting: number;
  /** Threads idle now (a request one of them takes at once does not wait). */
  idle: number;
  /** When the request that has waited longest was queued (ms since epoch); called only when needed. */
  oldestEnqueuedAt(now: number): number;
}

const OVERLOAD_MESSAGES: Record<Exclude<ShedCause, 'unavailable'>, string> = {
  queueFull: 'every thread is busy and the queue is full',
  queueWait: 'the queue is not draining (the oldest waiting request has waited past threadQueueWait)',
};

/** At most one log line per this many ms about shed requests. */
const LOG_EVERY_MS = 10_000;

function errorApp(status: number, message: string, extra: HeaderList): App {
  const body = Buffer.from(`${STATUS_CODES[status] ?? 'Error'}: ${message}\n`);
  const line = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return (_environ, startResponse) => {
    startResponse(line, [['Content-Type', 'text/plain; charset=utf-8'], ...extra]);
    return [body];
  };
}

/** The admission decision and the answer for shed requests. */
export class Admission {
  private readonly retry: HeaderList;
  private readonly unavailable: InlineDispatcher;
  private shedSinceLog = 0;
  private lastLog = 0;

  constructor(private readonly limits: AdmissionLimits, private readonly log: ErrorLog) {
    this.retry = [['Retry-After', String(limits.retryAfterSeconds)]];
    this.unavailable = new InlineDispatcher(errorApp(503, 'no thread can take requests now (shutting down, or the app does not load); retry later', this.retry), { log });
  }

  /** Null when the request may wait for a thread, or why it may not. */
  check(view: QueueView, now: number): ShedCause | null {
    if (view.closing) return 'unavailable';
    if (view.waiting >= this.limits.maxQueue + view.idle) return 'queueFull';
    if (this.limits.maxQueueWaitMs > 0 && view.waiting > 0 && now - view.oldestEnqueuedAt(now) > this.limits.maxQueueWaitMs) return 'queueWait';
    return null;
  }

  /** The error an overload cause raises: TSGI_ERR_OVERLOAD, status 503. */
  overloadError(cause: Exclude<ShedCause, 'unavailable'>): TsgiError {
    return tsgiError('TSGI_ERR_OVERLOAD', { problem: OVERLOAD_MESSAGES[cause], limit: cause === 'queueFull' ? 'threadPool or threadQueueSize' : 'threadQueueWait or threadPool' });
  }

  /** Answer a request that was not admitted: 503 with Retry-After, made from the error when it is overload. */
  refuse(cause: ShedCause, head: RequestHead, sink: ResponseSink): void | Promise<void> {
    if (cause === 'unavailable') return this.unavailable.dispatch(head, sink);
    const err = this.overloadError(cause);
    this.note(err);
    return new InlineDispatcher(errorApp(err.status, err.message, this.retry), { log: this.log }).dispatch(head, sink);
  }

  /** Log the overload, at most once per LOG_EVERY_MS, counting what was shed in between. */
  private note(err: TsgiError): void {
    this.shedSinceLog++;
    const now = Date.now();
    if (now - this.lastLog < LOG_EVERY_MS) return;
    this.log.log('warn', `${err.code}: ${err.message} (${this.shedSinceLog} request(s) answered ${err.status} with Retry-After since the last such line)`);
    this.lastLog = now;
    this.shedSinceLog = 0;
  }
}
