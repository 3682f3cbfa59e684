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
import { TsgiError, tsgiError } from '../errors.js';
import type { App, Body, Environ, StartResponse } from '../types.js';
import { fetchGlobalsInstalled, installFetchGlobals } from './fetch-globals.js';
import { headerList } from './header-list.js';
import { LazyAbort } from './lazy-abort.js';
import { canonicalUrl, lightRequest, requestInit } from './light-request.js';
import { LightResponse, partsHeaderList } from './light-response.js';
import { natives } from './natives.js';
import { statusLine } from './reason.js';
import { authority, fullTarget, origin, relativeTarget, requestHeaders, requestUrl, urlScheme } from './target.js';

export { headerList } from './header-list.js';

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
  /**
   * `true` (default): replace the global Request, Response and fetch once, as @hono/node-server does, so the
   * handler gets a light Request and its `new Response(...)` is a light Response (light-request.ts,
   * light-response.ts): no real Request/Response is built unless the handler needs one, which is what makes
   * a Hono app as fast through tsgi as on its own server. `new Request(request)`, `fetch(request)` and
   * `instanceof` keep working. `false`: leave the globals alone; the handler gets real Requests (slower).
   */
  globals?: boolean;
}

/** The Request a tsgi request becomes (a real one). `signal` aborts when the gateway stops the response early. */
export function requestFromEnviron(environ: Environ, signal?: AbortSignal, url: 'relative' | 'full' = 'full'): Request {
  return new natives.Request(url === 'full' ? requestUrl(environ) : origin(environ) + relativeTarget(environ), requestInit(environ, requestHeaders(environ), signal));
}

/** The absolute URL of the request as `new Request(url).url` would read it (scheme and host apart: no origin string to cut up again). */
function lightUrl(environ: Environ, url: 'relative' | 'full'): string {
  return canonicalUrl(urlScheme(environ), authority(environ), url === 'full' ? fullTarget(environ) : relativeTarget(environ));
}

/** The Response body as a tsgi body: chunks read one at a time; close() cancels the stream and aborts the request. */
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
      abort.abort(tsgiError('TSGI_ERR_INPUT_CLOSED', { problem: 'the client went away before the response was complete' }));
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
  if (opts.globals !== false) installFetchGlobals();
  // Light Requests only where the globals that accept them are in place (installed here or by anyone before).
  const light = fetchGlobalsInstalled();
  const call: FetchFunction = typeof handler === 'function' ? handler : typeof handler?.fetch === 'function' ? handler.fetch.bind(handler) : notAHandler(handler);
  // Not an async function: a handler that answers at once (Hono's, for a synchronous route) is served in the
  // same turn, without the promise and the microtask turns an `await` costs on every request.
  return (environ, startResponse) => {
    const abort = new LazyAbort();
    let request: Request;
    if (light) request = lightRequest(environ, lightUrl(environ, url), abort);
    else {
      request = requestFromEnviron(environ, undefined, url);
      // The signal is made when the handler first reads it (see LazyAbort).
      Object.defineProperty(request, 'signal', { get: () => abort.signal, configurable: true });
    }
    const response = call(request, environ);
    if (response instanceof natives.Response) return send(response, startResponse, abort);
    return Promise.resolve(response).then((r) => send(r, startResponse, abort));
  };
}

/** Start the response and hand back its body. */
function send(response: unknown, startResponse: StartResponse, abort: LazyAbort): Body {
  if (!(response instanceof natives.Response)) {
    throw tsgiError('TSGI_ERR_BAD_BODY', { problem: `the fetch handler must answer a Response, got ${response === null ? 'null' : typeof response}` });
  }
  // A light Response still light: its string or bytes are the body, no stream to read.
  const parts = LightResponse.parts(response);
  if (parts !== undefined) {
    startResponse(statusLine(parts.status, parts.statusText), partsHeaderList(parts));
    // A string goes as it is: the front encodes it (the HTTP front together with the head).
    return parts.body === null ? [] : [parts.body];
  }
  startResponse(statusLine(response.status, response.statusText), headerList(response.headers));
  return responseBody(response, abort);
}

function notAHandler(handler: unknown): never {
  throw tsgiError('TSGI_ERR_APP_LOAD', { problem: `fromFetch needs a function (request) => Response or an object with a fetch method, got ${handler === null ? 'null' : typeof handler}`, fix: 'pass the handler itself (fromFetch(app) for a Hono app, fromFetch((request) => new Response(...)) for a function)' });
}
