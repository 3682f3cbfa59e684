/**
 * Dispatchers: where an app runs. A front hands every request to a Dispatcher as a transport-neutral
 * RequestHead (CGI variables + a body source) and a ResponseSink; the dispatcher builds the environ and runs
 * the app inline, or (see the concurrency models) ships the head to a worker thread or process.
 * Because fronts only know this interface, every front works with every concurrency model.
 */
import type { App, CgiVars } from '../../app-api/types.js';
import type { ClientGone } from './client-gone.js';
import { buildEnviron } from './environ.js';
import { serveApp } from './serve-app.js';
import { BodyInput, emptyInput, type SyncReader } from '../../app-api/input.js';
import type { ErrorLog } from './log.js';
import type { ResponseSink } from './sink.js';

/** A request as every front hands it over: plain data, structured-clonable but for the body source. */
export interface RequestHead {
  cgi: CgiVars;
  /** The request body, or null when the request has none. */
  body: AsyncIterable<Buffer | Uint8Array> | null;
  /** A blocking reader over the same body, where the runtime has one (CGI stdin). */
  bodySync?: SyncReader;
  /**
   * Front-specific environ keys (e.g. FastCGI's `tsgi.fcgi_role`, `tsgi.fcgi_data` for the Filter role),
   * copied into the environ by buildEnviron. The standard `tsgi.*` keys always win over these.
   */
  extra?: Readonly<Record<string, unknown>>;
  /**
   * Told when the client leaves before the response is done; becomes `tsgi.client_gone` in the environ.
   * Absent where the front cannot know (CGI).
   */
  clientGone?: ClientGone;
}

/** Runs apps. */
export interface Dispatcher {
  /** Serve one request; resolves when the response is done (never rejects). */
  dispatch(head: RequestHead, sink: ResponseSink): void | Promise<void>;
  /** Stop taking requests and release workers once in-flight ones are done. */
  close(): Promise<void>;
}

/** Settings every dispatcher shares. */
export interface DispatcherOptions {
  log: ErrorLog;
  /** The `[app]` section of the config. */
  appConfig?: Readonly<Record<string, string>>;
  /** tsgi.multiprocess: true when other processes serve the same app (processPool, forking). */
  multiprocess?: boolean;
  /** tsgi.run_once: true for CGI. */
  runOnce?: boolean;
  /** tsgi.multithread: true when other threads of this process serve the same app (threadPool, threading). */
  multithread?: boolean;
}

const NO_CONFIG: Readonly<Record<string, string>> = Object.freeze({});

/** single mode: the app runs on the event loop, one request after another as events arrive. */
export class InlineDispatcher implements Dispatcher {
  private readonly appConfig: Readonly<Record<string, string>>;
  constructor(private readonly app: App, private readonly opts: DispatcherOptions) {
    this.appConfig = opts.appConfig ?? NO_CONFIG;
  }

  dispatch(head: RequestHead, sink: ResponseSink): void | Promise<void> {
    const env = buildEnviron(head.cgi, {
      input: head.body === null ? emptyInput() : new BodyInput(head.body, head.bodySync),
      errors: this.opts.log,
      multithread: this.opts.multithread === true,
      multiprocess: this.opts.multiprocess === true,
      runOnce: this.opts.runOnce === true,
      appConfig: this.appConfig,
      extra: head.extra,
      clientGone: head.clientGone,
    });
    const done = serveApp(this.app, env, sink, { log: this.opts.log });
    const gone = head.clientGone;
    if (gone === undefined) return done;
    // Once the response is done, the connection closing is its ordinary end, not a client leaving.
    if (done === undefined) gone.settle();
    else return done.then(() => gone.settle());
  }

  async close(): Promise<void> {}
}
