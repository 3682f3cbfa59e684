/**
 * The body of the CGI entry script (examples/cgi/app.cgi): load the app module, serve the request, exit.
 * Kept apart from run.ts so that `runCgi` can be used by people who load their app themselves.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { App } from '../../app-api/types.js';
import { runCgi, stderrLog } from './run.js';
import { limitsFromEnv } from '../../gateway/core/limits.js';
import { writeAllSync } from './sink.js';

const LOAD_ERROR = 'Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nInternal Server Error\n';

/** The app a module exports: `app`, or the default export (`module.exports = app` for CommonJS). */
function pickApp(mod: unknown): App | null {
  if (mod === null || mod === undefined) return null;
  const m = mod as Record<string, unknown>;
  if (typeof m.app === 'function') return m.app as App;
  if (typeof m.default === 'function') return m.default as App;
  return typeof mod === 'function' ? (mod as App) : null;
}

/** Errors of require() that mean "this module needs import()": top-level await, or a Node without require(esm). */
const NEEDS_IMPORT = new Set(['ERR_REQUIRE_ASYNC_MODULE', 'ERR_REQUIRE_ESM']);

/**
 * Load the app module. require() first: on Node >= 20.19 it loads ES modules too, and it is ~7 ms faster per
 * request than import(), which starts the asynchronous ESM loader (and fs/promises and the streams with it).
 * A module with top-level await, or a Node without require(esm), goes through import().
 */
async function loadModule(path: string): Promise<unknown> {
  if (process.features.require_module === true) {
    try {
      return createRequire(import.meta.url)(path);
    } catch (err) {
      if (!NEEDS_IMPORT.has((err as NodeJS.ErrnoException)?.code ?? '')) throw err;
    }
  }
  return import(pathToFileURL(path).href);
}

/**
 * Serve this process's CGI request with the app exported by the module at `appPath` (`app` or default
 * export), then exit with code 0: the response is on stdout by then, and a timer or pool the app left open
 * must not keep the web server waiting for the end of the output.
 */
export async function main(appPath: string, opts: { exit?: boolean } = {}): Promise<void> {
  const log = stderrLog();
  let app: App | null = null;
  if (appPath === '') {
    log.log('error', 'no app to serve (TSGI_ERR_APP_LOAD): set APP in the CGI script, or TSGI_APP in the web server environment (Apache: SetEnv TSGI_APP /path/to/app.js)');
  } else {
    try {
      app = pickApp(await loadModule(resolve(appPath)));
      if (app === null) log.log('error', `${appPath} exports no app (TSGI_ERR_APP_LOAD): export a function as \`app\` or as the default export`);
    } catch (err) {
      log.log('error', `cannot load the app module ${appPath} (TSGI_ERR_APP_LOAD)`, err);
    }
  }
  if (app === null) writeAllSync(1, LOAD_ERROR);
  // Set by the web server's config (SetEnv, setenv.add-environment), never by a client (its headers are HTTP_*).
  else await runCgi(app, { log, trustedProxies: process.env.TSGI_TRUSTED_PROXIES, trustedProxyHeaders: process.env.TSGI_TRUSTED_PROXY_HEADERS, limits: limitsFromEnv(process.env) });
  if (opts.exit !== false) process.exit(0);
}
