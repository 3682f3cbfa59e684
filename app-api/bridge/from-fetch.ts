/**
 * `fromFetch(handler)`: a fetch handler (`(request) => Response`, or an object with a `fetch` method as Hono,
 * Bun and Deno servers export) as a tsgi app, so it runs unchanged under every tsgi front and mode.
 *
 * The Request is built from the environ: method, the URL rebuilt from scheme, Host, PATH_INFO and
 * QUERY_STRING (relative to the mount by default, see FromFetchOptions; target.ts), the HTTP_* headers plus CONTENT_TYPE/CONTENT_LENGTH, and `tsgi.input` as a
 * streaming body (`duplex: 'half'`). The Response goes back as it comes: status and statusText, every header
 * (each Set-Cookie on its own, from `headers.getSetCookie()`), and the body streamed chunk by chunk, read
 * only as fast as the gateway writes it (backpressure). When the gateway stops the body early (the client
 * went away) the Request's `signal` aborts.
 *
 * The handler's second argument is the environ, so a Hono app sees it as `c.env` (REMOTE_ADDR, tsgi.*).
 */
import { TsgiError } from '../errors.js';
import type { App, Body, Environ, HeaderList } from '../types.js';
import { inputStream } from './input-stream.js';
import { statusLine } from './reason.js';
import { hasRequestBody, origin, relativeTarget, requestHeaders, requestUrl } from './target.js';

/** A fetch handler as a function: gets the Request (and the environ), answers a Response. */
export type FetchFunction = (request: Request, environ: Environ) => Response | Promise<Response>;

/** A fetch handler: a function, or an object whose `fetch` method is one (a Hono app, a Bun/Deno server module). */
export type FetchHandler = FetchFunction | { fetch: FetchFunction };

/** Options of fromFetch. */
export interface FromFetchOptions {
  /**
   * `relative` (default): the Request's URL path is PATH_INFO, relative to the mount point, so a router
   * (Hono, itty) matches its own routes wherever the app is mounted, as express's `req.url` does; the mount
   * is `environ.SCRIPT_NAME` (Hono: `c.env.SCRIPT_NAME`). `full`: SCRIPT_NAME + PATH_INFO, the URL the
   * client asked for.
   */
  url?: 'relative' | 'full';
}

/** The Request a tsgi request becomes. `signal` aborts when the gateway stops the response early. */
export function requestFromEnviron(environ: Environ, signal?: AbortSignal, url: 'relative' | 'full' = 'full'): Request {
  const method = environ.REQUEST_METHOD;
  const init: RequestInit & { duplex?: 'half' } = { method, headers: requestHeaders(environ), signal };
  // GET and HEAD cannot carry a body in a Request; a body sent with them is left unread.
  if (method !== 'GET' && method !== 'HEAD' && hasRequestBody(environ)) {
    init.body = inputStream(environ['tsgi.input']);
    init.duplex = 'half';
  }
  return new Request(url === 'full' ? requestUrl(environ) : origin(environ) + relativeTarget(environ), init);
}

/** The Response's headers as a tsgi header list: repeated Set-Cookie kept apart, everything else as Headers joins it. */
export function headerList(headers: Headers): HeaderList {
  const out: HeaderList = [];
  for (const [name, value] of headers) if (name !== 'set-cookie') out.push([name, value]);
  for (const cookie of headers.getSetCookie()) out.push(['set-cookie', cookie]);
  return out;
}

/** The Response body as a tsgi body: chunks read one at a time; close() cancels the stream and aborts the request. */
/** An AbortController made on first use of its signal. */
class LazyAbort {
  private controller: AbortController | null = null;
  private reason: unknown = undefined;
  private aborted = false;

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

function responseBody(response: Response, abort: LazyAbort): Body {
  const stream = response.body;
  let finished = false;
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return {
    async *[Symbol.asyncIterator]() {
      if (stream === null) {
        finished = true;
        return;
      }
      reader = stream.getReader();
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        yield r.value;
      }
      finished = true;
    },
    close() {
      if (finished) return;
      // Stopped before the end: the client is gone (or the gateway failed). Tell the handler both ways.
      finished = true;
      abort.abort(new TsgiError('TSGI_ERR_INPUT_CLOSED', 'the client went away before the response was complete'));
      const cancelled = reader !== null ? reader.cancel() : stream?.cancel();
      cancelled?.catch(() => {});
    },
  };
}

/**
 * Make a tsgi app of a fetch handler.
 *
 *     import { Hono } from 'hono';
 *     const hono = new Hono().get('/', (c) => c.text('hi'));
 *     export const app = fromFetch(hono);
 */
export function fromFetch(handler: FetchHandler, opts: FromFetchOptions = {}): App {
  const url = opts.url ?? 'relative';
  const call: FetchFunction = typeof handler === 'function' ? handler : typeof handler?.fetch === 'function' ? handler.fetch.bind(handler) : notAHandler(handler);
  return async (environ, startResponse) => {
    const abort = new LazyAbort();
    const request = requestFromEnviron(environ, undefined, url);
    // `signal` in RequestInit costs ~100 us per Request (undici links a new signal to it), more than the rest
    // of the bridge together (measured: bench/bridge.ts); most handlers never read it. So the signal is made
    // when the handler first reads request.signal, and aborting is free when nobody did.
    Object.defineProperty(request, 'signal', { get: () => abort.signal, configurable: true });
    const response = await call(request, environ);
    if (!(response instanceof Response)) {
      throw new TsgiError('TSGI_ERR_BAD_BODY', `the fetch handler must answer a Response, got ${response === null ? 'null' : typeof response}`);
    }
    startResponse(statusLine(response.status, response.statusText), headerList(response.headers));
    return responseBody(response, abort);
  };
}

function notAHandler(handler: unknown): never {
  throw new TsgiError('TSGI_ERR_APP_LOAD', `fromFetch needs a function (request) => Response or an object with a fetch method, got ${handler === null ? 'null' : typeof handler}`);
}
