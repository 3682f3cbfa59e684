/**
 * The apps the conformance table talks to, behind ONE entry point (`conformanceApp`) so every front serves a
 * single app. It dispatches on PATH_INFO:
 *
 * - `/-/inject`: sets a header whose value tries to inject a second header (CR LF): must end in a 500;
 * - `/-/big-header?bytes=N`: a response header `X-Large` of N bytes;
 * - anything else: examples/echo-environ (environ as JSON + request body length/sha256; `?status=`,
 *   `?stream=N`, `?header=Name:Value`).
 */
import { lint } from '../../app-api/lint.js';
import type { App } from '../../app-api/types.js';
import { app as echoEnviron } from '../../examples/echo-environ/app.js';

/** Tries a CRLF header injection; the gateway must refuse it with a 500 and send nothing of it. */
export const injectApp: App = (_environ, startResponse) => {
  startResponse('200 OK', [
    ['Content-Type', 'text/plain'],
    ['X-Ok', 'a\r\nX-Injected: yes'],
  ]);
  return ['this body must never be sent\n'];
};

/** Answers with a response header of `?bytes=N` bytes (default 8 KiB). */
export const bigHeaderApp: App = (environ, startResponse) => {
  const bytes = Number(new URLSearchParams(environ.QUERY_STRING).get('bytes') ?? '8192');
  startResponse('200 OK', [
    ['Content-Type', 'text/plain'],
    ['X-Large', 'x'.repeat(bytes)],
  ]);
  return ['ok\n'];
};

/** PATH_INFO prefixes that select a helper app. */
export const APP_PATHS = { inject: '/-/inject', bigHeader: '/-/big-header' } as const;

const unlinted: App = (environ, startResponse) => {
  const path = environ.PATH_INFO;
  if (path === APP_PATHS.inject) return injectApp(environ, startResponse);
  if (path === APP_PATHS.bigHeader) return bigHeaderApp(environ, startResponse);
  return echoEnviron(environ, startResponse);
};

/**
 * The one app every front serves for the conformance table, wrapped in lint() so a front that breaks
 * app-api/SPEC.md (environ, close(), input) fails the table with the rule it broke.
 */
export const conformanceApp: App = lint(unlinted);

export default conformanceApp;
