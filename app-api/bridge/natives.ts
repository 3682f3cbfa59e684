/**
 * The runtime's own Request, Response and fetch, as they were before the bridge replaced the globals
 * (fetch-globals.ts). Kept under a registered symbol on globalThis, so that two copies of tsgi in one process
 * (the CGI bundle and the ES modules, or two installed versions) agree on what is native and never wrap
 * each other's wrappers.
 */

/** The runtime's web classes and fetch. */
export interface Natives {
  Request: typeof Request;
  Response: typeof Response;
  fetch: typeof fetch;
}

const KEY = Symbol.for('tsgi.bridge.natives');

function capture(): Natives {
  const g = globalThis as unknown as Record<symbol, Natives | undefined>;
  return (g[KEY] ??= { Request: globalThis.Request, Response: globalThis.Response, fetch: globalThis.fetch });
}

/** The runtime's own Request, Response and fetch. */
export const natives: Natives = capture();

/** What `new Headers()` takes (the DOM's HeadersInit; this project compiles without the DOM library). */
export type HeadersInit = ConstructorParameters<typeof Headers>[0];
/** What `new Response()` takes as a body (the DOM's BodyInit). */
export type BodyInit = ConstructorParameters<typeof Response>[0];
/** What `new Request()` and fetch take as the request (the DOM's RequestInfo, and a URL). */
export type RequestInfo = ConstructorParameters<typeof Request>[0];
