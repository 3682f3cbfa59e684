/**
 * The globals fromFetch replaces (once per process), as @hono/node-server does by default:
 *
 * - `Response`: the light Response (light-response.ts), so `new Response('hi')` in a handler is sent without
 *   building and reading a real one;
 * - `Request`: the runtime's Request, except that given a light Request (light-request.ts) it starts from the
 *   real one behind it, so `new Request(request, init)` works;
 * - `fetch`: the runtime's fetch, likewise taking the real Request out of a light one.
 *
 * `instanceof Request` / `instanceof Response` keep answering for every real and light object. Code that
 * kept the runtime's own fetch or Request from before (`const f = globalThis.fetch` at import time) and
 * passes it a light Request gets undici's TypeError: pass `fromFetch(h, { globals: false })` then.
 */
import { isLightRequest, realRequest } from './light-request.js';
import { LightResponse } from './light-response.js';
import { natives, type RequestInfo } from './natives.js';

const NativeRequest = natives.Request;

/** The global Request once installed: the runtime's, taking the real Request out of a light one. */
class BridgeRequest extends NativeRequest {
  /** `x instanceof Request` holds for every Request, real or light, as before the global was replaced. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return this === BridgeRequest ? value instanceof NativeRequest : Function.prototype[Symbol.hasInstance].call(this, value);
  }

  constructor(input: RequestInfo, init?: RequestInit) {
    super(isLightRequest(input) ? input[realRequest]() : input, init);
  }
}

/** The global fetch once installed: the runtime's, given the real Request of a light one. */
function bridgeFetch(input: RequestInfo, init?: RequestInit): Promise<Response> {
  return natives.fetch(isLightRequest(input) ? input[realRequest]() : input, init);
}

const INSTALLED = Symbol.for('tsgi.bridge.globalsInstalled');

/** True when the light objects may be handed out: the globals that accept them are in place. */
export function fetchGlobalsInstalled(): boolean {
  return (globalThis as unknown as Record<symbol, boolean | undefined>)[INSTALLED] === true;
}

/** Replace Request, Response and fetch on globalThis (once; later calls do nothing). */
export function installFetchGlobals(): void {
  const g = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (g[INSTALLED] === true) return;
  g[INSTALLED] = true;
  // Defined like the runtime defines them (writable, configurable, not enumerable), so code may replace them again.
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  };
  define('Request', BridgeRequest);
  define('Response', LightResponse);
  define('fetch', bridgeFetch);
}
