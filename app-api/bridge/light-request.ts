/**
 * The Request a fetch handler gets from fromFetch: a stand-in that answers `method`, `url`, `headers` and
 * `signal` from the environ, and builds the runtime's real Request only when something needs one (the body,
 * clone(), `new Request(request)`, `fetch(request)`, cache/mode/...). The same design as @hono/node-server's
 * request.ts, for the same measured reason: building an undici Request per request (URL parse, Headers,
 * its AbortSignal) cost more than the rest of a Hono hello world through tsgi together (bench/bridge.ts;
 * figures in BENCHMARKS.md).
 *
 * It is a `Request` to `instanceof` (its prototype chain ends in Request.prototype); `new Request(req)` and
 * `fetch(req)` work because fetch-globals.ts replaces those two globals with versions that take the real
 * Request out first (fromFetch installs them; `{ globals: false }` keeps the natives and real Requests).
 */
import type { Environ } from '../types.js';
import { inputStream } from './input-stream.js';
import type { LazyAbort } from './lazy-abort.js';
import { natives, type HeadersInit } from './natives.js';
import { hasRequestBody, requestHeaders } from './target.js';

/** The method that builds (once) and returns the real Request behind a light one. Registered, so that two copies of tsgi in one process know each other's. */
export const realRequest: unique symbol = Symbol.for('tsgi.bridge.realRequest') as never;

/** A light Request: a Request to its users, with the real one behind `[realRequest]()`. */
export interface LightRequest extends Request {
  [realRequest](): Request;
}

/** True for a light Request (of any copy of this module: the symbol is the check, not the class). */
export function isLightRequest(value: unknown): value is LightRequest {
  return typeof value === 'object' && value !== null && typeof (value as Partial<LightRequest>)[realRequest] === 'function';
}

/** The RequestInit of a request in the environ: method, headers, the streaming body, and the signal if given. */
export function requestInit(environ: Environ, headers: HeadersInit, signal?: AbortSignal): RequestInit & { duplex?: 'half' } {
  const method = environ.REQUEST_METHOD;
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  // GET and HEAD cannot carry a body in a Request; a body sent with them is left unread.
  if (method !== 'GET' && method !== 'HEAD' && hasRequestBody(environ)) {
    init.body = inputStream(environ['tsgi.input']);
    init.duplex = 'half';
  }
  return init;
}

// The methods a Request keeps as they are: anything else (lower case, CONNECT, TRACE, a bad token) goes
// through the real Request at once, which normalises or rejects it exactly as before.
const PLAIN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
// A URL the WHATWG parser would give back unchanged: a lower-case host with a port of 1000-59999 (never a
// default one, never out of range), and a path/query of characters it encodes in neither (so no ' either:
// a query encodes it), without dot segments. Anything else is parsed (new URL).
const PLAIN_HOST = /^[a-z0-9.-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;
const PLAIN_TARGET = /^\/[!#$&(-;=?-[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;

/** The URL string `new Request(url).url` would give for scheme://host + target. */
export function canonicalUrl(scheme: string, host: string, target: string): string {
  const url = `${scheme}://${host}${target}`;
  if (PLAIN_HOST.test(host) && PLAIN_TARGET.test(target) && !DOT_SEGMENT.test(target)) return url;
  return new URL(url).href;
}

interface State {
  environ: Environ;
  url: string;
  abort: LazyAbort;
  headers: Headers | undefined;
  real: Request | undefined;
}

const STATE = Symbol('tsgi.lightRequestState');
type Light = LightRequest & { [STATE]: State };

function buildReal(state: State): Request {
  const init = requestInit(state.environ, state.headers ?? requestHeaders(state.environ), state.abort.used ? state.abort.signal : undefined);
  const real = new natives.Request(state.url, init);
  // Not read yet: the real Request's signal stays unlinked (see LazyAbort) and answers with the lazy one.
  if (!state.abort.used) Object.defineProperty(real, 'signal', { get: () => state.abort.signal, configurable: true });
  return real;
}

const proto = {
  get method(): string {
    return (this as unknown as Light)[STATE].environ.REQUEST_METHOD;
  },
  get url(): string {
    return (this as unknown as Light)[STATE].url;
  },
  get headers(): Headers {
    const state = (this as unknown as Light)[STATE];
    return (state.headers ??= state.real?.headers ?? new Headers(requestHeaders(state.environ)));
  },
  get signal(): AbortSignal {
    return (this as unknown as Light)[STATE].abort.signal;
  },
  [realRequest](this: Light): Request {
    const state = this[STATE];
    return (state.real ??= buildReal(state));
  },
};

// Everything else a Request has (body, bodyUsed, text(), clone(), cache, ...) is the real Request's: its
// getters and methods check that `this` is a real Request, so they are called on it, never on the stand-in.
// Walked from the prototype rather than listed, so members a newer Node adds are covered too.
for (const key of Reflect.ownKeys(natives.Request.prototype)) {
  if (key === 'constructor' || key === Symbol.toStringTag || Object.prototype.hasOwnProperty.call(proto, key)) continue;
  const desc = Object.getOwnPropertyDescriptor(natives.Request.prototype, key)!;
  if (desc.get !== undefined) {
    Object.defineProperty(proto, key, { configurable: true, enumerable: desc.enumerable, get(this: Light) { return Reflect.get(this[realRequest](), key); } });
  } else if (typeof desc.value === 'function') {
    const method = desc.value as (...args: unknown[]) => unknown;
    Object.defineProperty(proto, key, { configurable: true, writable: true, enumerable: desc.enumerable, value(this: Light, ...args: unknown[]) { return method.apply(this[realRequest](), args); } });
  }
}
Object.setPrototypeOf(proto, natives.Request.prototype);

/**
 * The Request for a tsgi request at `url` (already absolute, see canonicalUrl): light when the method is a
 * plain one, else the real Request built now.
 */
export function lightRequest(environ: Environ, url: string, abort: LazyAbort): Request {
  const state: State = { environ, url, abort, headers: undefined, real: undefined };
  if (!PLAIN_METHODS.has(environ.REQUEST_METHOD)) return buildReal(state);
  const light = Object.create(proto) as Light;
  light[STATE] = state;
  return light;
}
