/**
 * `toFetch(app)`: a tsgi app as a fetch handler (`(request) => Promise<Response>`), so it runs on anything that
 * takes one: Hono's node-server, Bun.serve, Deno.serve, a service worker, whatwg-node, or another app's
 * router. The request goes through the same core as the built-in server (cgiFromHttp builds the CGI
 * variables with its httpoxy and header-name rules, InlineDispatcher runs the app, serveApp frames the body),
 * so the app sees the environ it would see behind tsgi's own server.
 *
 * `tsgi.client_gone` follows the Request's `signal`: servers that abort it when the client disconnects
 * (@hono/node-server does; test/bridge-client-gone.test.ts) tell the app, and a caller that aborts its own Request does
 * too. An abort also stops the response body, as a disconnect on the built-in server does. Once the
 * response is done, an abort is nothing to the app (the dispatcher settles the ClientGone).
 *
 * A fetch Request knows no client address: pass `remoteAddress` to supply one (e.g. from Bun's
 * `server.requestIP(request)`), else REMOTE_ADDR is empty.
 */
import type { App } from '../../app-api/types.js';
import { cgiFromHttp, type HttpRequestHead } from '../../gateway/core/environ.js';
import { ClientGone } from '../../gateway/core/client-gone.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { isTsgiError } from '../../app-api/errors.js';
import { FetchSink } from './sink.js';

/** Options of toFetch. */
export interface ToFetchOptions {
  /** Mount point (SCRIPT_NAME); requests outside it answer 404. */
  scriptName?: string;
  /** The client's address for REMOTE_ADDR, from whatever the runtime passes beside the Request. */
  remoteAddress?: (request: Request, ...rest: unknown[]) => string | undefined;
  /** Where errors of the app are logged (default stderr). */
  log?: ErrorLog;
  /** `tsgi.app_config`. */
  appConfig?: Readonly<Record<string, string>>;
}

/** A fetch handler made by toFetch. Extra arguments (Hono's env, Bun's server) go to `remoteAddress`. */
export type TsgiFetchHandler = (request: Request, ...rest: unknown[]) => Promise<Response>;

/** Node's flat raw header list from Headers; each Set-Cookie is its own entry. */
function rawHeaders(request: Request, url: URL): string[] {
  const raw: string[] = [];
  let host = false;
  for (const [name, value] of request.headers) {
    if (name === 'host') host = true;
    raw.push(name, value);
  }
  // A Request made in code may have no Host header: the URL names the server.
  if (!host) raw.unshift('host', url.host);
  return raw;
}

async function* bodyOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    reader.releaseLock();
  }
}

const GONE = 'the request was aborted (its signal: the client left) before the response was done';

/** The ClientGone of a Request: told by its signal's abort, which also stops the response body. */
function goneWith(signal: AbortSignal, sink: FetchSink): ClientGone {
  const gone = new ClientGone();
  const onAbort = (): void => {
    gone.gone(GONE);
    if (gone.isGone) sink.clientLeft();
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return gone;
}

/**
 * Make a fetch handler of a tsgi app.
 *
 *     import { serve } from '@hono/node-server';
 *     serve({ fetch: toFetch(app), port: 8080 });
 */
export function toFetch(app: App, opts: ToFetchOptions = {}): TsgiFetchHandler {
  const log = opts.log ?? new ErrorLog();
  const dispatcher = new InlineDispatcher(app, { log, appConfig: opts.appConfig });
  return async (request, ...rest) => {
    const url = new URL(request.url);
    const scheme = url.protocol === 'https:' ? 'https' : 'http';
    const head: HttpRequestHead = {
      method: request.method,
      url: url.pathname + url.search,
      httpVersion: '1.1',
      rawHeaders: rawHeaders(request, url),
      remoteAddress: opts.remoteAddress?.(request, ...rest),
      localPort: url.port !== '' ? Number(url.port) : scheme === 'https' ? 443 : 80,
      scheme,
    };
    let cgi;
    try {
      cgi = cgiFromHttp(head, { scriptName: opts.scriptName });
    } catch (err) {
      if (!isTsgiError(err)) throw err;
      log.log('warn', `refused ${head.method} ${head.url.slice(0, 200)}`, err);
      return new Response(err.status === 404 ? 'Not Found\n' : 'Bad Request\n', { status: err.status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }
    const sink = new FetchSink(request.method);
    const clientGone = goneWith(request.signal, sink);
    const done = dispatcher.dispatch({ cgi, body: request.body === null ? null : bodyOf(request.body), clientGone }, sink);
    if (done !== undefined) void Promise.resolve(done).finally(() => sink.settle());
    else sink.settle();
    return sink.response;
  };
}
