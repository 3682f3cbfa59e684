/**
 * `tsgi.client_gone`: an AbortSignal in the environ that aborts when the client leaves while the app is
 * still working, so an app can stop a long computation or query nobody will read. The front that owns the
 * connection calls `ClientGone#gone()` (HTTP/1.1: the socket's end or close; HTTP/2: the stream's close;
 * FastCGI: FCGI_ABORT_REQUEST or the connection's close; SCGI: the socket's end or close); the thread pool
 * forwards it to the thread that runs the request. CGI cannot know (the web server keeps the pipe) and
 * puts no signal in the environ.
 *
 * Why lazy: building an AbortController's signal costs more than a whole hello-world request (measured on
 * Node 20, about 1,000 times the cost of a plain object), and almost no request looks at it. The signal
 * exists only once the app reads the key; a client that leaves before then gets an already-aborted one.
 */
import { TsgiError, tsgiError } from '../../app-api/errors.js';

/** One request's "the client left" state, with its AbortSignal made on first use. */
export class ClientGone {
  private controller: AbortController | null = null;
  private reason: TsgiError | null = null;
  private settled = false;
  /** Told once when the client leaves (the thread pool forwards it to the thread running the request). */
  onGone: ((why: string) => void) | null = null;

  /** True once the client left (before the response was done). */
  get isGone(): boolean {
    return this.reason !== null;
  }

  /** How the client left ('' while it has not). */
  get why(): string {
    return this.reason?.message ?? '';
  }

  /** The signal: made now if the app is the first to ask; already aborted if the client left before. */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.reason !== null) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** The front saw the client leave: abort the signal (once), unless the response was already done. */
  gone(why: string): void {
    if (this.reason !== null || this.settled) return;
    this.reason = tsgiError('TSGI_ERR_CLIENT_GONE', { problem: why });
    this.controller?.abort(this.reason);
    this.onGone?.(why);
  }

  /** The response is complete: a close after this is the ordinary end of a connection, not a client leaving. */
  settle(): void {
    this.settled = true;
  }
}

const kSource = Symbol('tsgi.client_gone.source');

/** The getter of every environ's `tsgi.client_gone`: one shared function, so environs keep one shape. */
function readSignal(this: { [kSource]: ClientGone }): AbortSignal {
  return this[kSource].signal;
}

/** `Object.prototype.__defineGetter__` (ECMA-262 Annex B), typed. */
const defineGetter = (Object.prototype as unknown as { __defineGetter__(this: object, key: string, getter: () => unknown): void }).__defineGetter__;

/**
 * Put `tsgi.client_gone` on an environ as a getter over `source` (enumerable, so copies of the environ carry
 * the signal; configurable, so middleware may replace it). The getter is shared and the source sits under a
 * symbol: a getter closure per request gave every environ its own hidden class (measured: about 1.4-2 us
 * per request against about 0.1 us this way, Node 20).
 *
 * Defined with `__defineGetter__`, which makes exactly this property (a getter, enumerable, configurable),
 * rather than `Object.defineProperty`, which first reads a descriptor object field by field: perf on the
 * built-in server put that read (V8's ToPropertyDescriptor) at 0.13-0.26 us a request (two runs), the largest single
 * item of the environ's cost.
 */
export function defineClientGone(env: object, source: ClientGone): void {
  (env as { [kSource]: ClientGone })[kSource] = source;
  defineGetter.call(env, 'tsgi.client_gone', readSignal);
}
