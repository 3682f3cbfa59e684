/**
 * The body of the CGI entry script (examples/cgi/app.cgi): load the app module, serve the request, exit.
 * Kept apart from run.ts so that `runCgi` can be used by people who load their app themselves.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { adaptApp, APP_INTERFACES, type AppInterface } from '../../app-api/bridge/shape.js';
import type { App } from '../../app-api/types.js';
import { tsgiError } from '../../app-api/errors.js';
import { runCgi, stderrLog } from './run.js';
import { limitsFromEnv } from '../../gateway/core/limits.js';
import { writeAllSync } from './sink.js';

const LOAD_ERROR = 'Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nInternal Server Error\n';

/** A function, or an object with a fetch method (a Hono app, `export default { fetch }`). */
function isAppLike(value: unknown): boolean {
  return typeof value === 'function' || (value !== null && typeof value === 'object' && typeof (value as { fetch?: unknown }).fetch === 'function');
}

/**
 * The export a module serves, and its name for messages: `app`, or the default export (`module.exports = app`
 * for CommonJS, an express app or a Hono app as the default export), as the CLI picks it.
 */
function pickExport(mod: unknown): { value: unknown; name: string } | null {
  if (mod === null || mod === undefined) return null;
  const m = mod as Record<string, unknown>;
  if (isAppLike(m.app)) return { value: m.app, name: 'app' };
  if (isAppLike(m.default)) return { value: m.default, name: 'default' };
  return isAppLike(mod) ? { value: mod, name: 'module.exports' } : null;
}

/**
 * The interface asked for by TSGI_INTERFACE in the web server's environment (the CLI's `--interface`):
 * `auto` when unset. Throws TSGI_ERR_APP_LOAD naming the variable for any other value.
 */
export function cgiInterface(value: string | undefined): AppInterface {
  if (value === undefined || value === '') return 'auto';
  if ((APP_INTERFACES as readonly string[]).includes(value)) return value as AppInterface;
  throw tsgiError('TSGI_ERR_APP_LOAD', { problem: `TSGI_INTERFACE=${value} is not an interface`, fix: `set it to one of ${APP_INTERFACES.join(', ')} (or leave it unset for auto)` });
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
      const iface = cgiInterface(process.env.TSGI_INTERFACE);
      const picked = pickExport(await loadModule(resolve(appPath)));
      if (picked === null) log.log('error', `${appPath} exports no app (TSGI_ERR_APP_LOAD): export a tsgi app, a fetch handler (a Hono app) or a Node listener (an express app) as \`app\` or as the default export`);
      // The CLI's detection: a Hono app, an express/connect app or a fetch function runs as it is.
      else app = adaptApp(picked.value, iface, `${appPath}: ${picked.name}`);
    } catch (err) {
      log.log('error', `cannot load the app module ${appPath} (TSGI_ERR_APP_LOAD)`, err);
    }
  }
  if (app === null) writeAllSync(1, LOAD_ERROR);
  // Set by the web server's config (SetEnv, setenv.add-environment), never by a client (its headers are HTTP_*).
  else await runCgi(app, { log, trustedProxies: process.env.TSGI_TRUSTED_PROXIES, trustedProxyHeaders: process.env.TSGI_TRUSTED_PROXY_HEADERS, limits: limitsFromEnv(process.env) });
  if (opts.exit !== false) process.exit(0);
}
