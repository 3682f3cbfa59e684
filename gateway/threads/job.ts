/** A request inside the thread dispatcher, from the moment it is admitted until its response is complete. */
import type { RequestHead } from '../core/dispatch.js';
import type { ResponseSink } from '../core/sink.js';
import type { ResponseRelay } from './response-proxy.js';

/** One admitted request. `S` is the slot type of the thread that runs it. */
export class Job<S = unknown> {
  /** When its thread started it (ms since epoch), 0 while it waits. */
  startedAt = 0;
  /** The thread it was handed to (running it, or holding it in a batch), null while queued. */
  slot: S | null = null;
  /** Applies the thread's response messages to the sink; set when the request starts. */
  relay: ResponseRelay | null = null;
  /** The request time limit (requestTimeoutMs). */
  timer: NodeJS.Timeout | undefined;
  /** The thread sent the end (or abort) of the response. */
  finalReceived = false;
  done = false;
  /** Resolves when the response is complete or taken over: what dispatch() returns. */
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

  /** `METHOD TARGET PROTOCOL`, for logs and the status page. */
  requestLine(): string {
    const c = this.head.cgi;
    const target = c.REQUEST_URI ?? c.SCRIPT_NAME + c.PATH_INFO + (c.QUERY_STRING ? '?' + c.QUERY_STRING : '');
    return `${c.REQUEST_METHOD} ${target} ${c.SERVER_PROTOCOL}`;
  }
}
