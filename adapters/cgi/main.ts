/**
 * The body of the CGI entry script (examples/cgi/app.cgi): load the app module, serve the request, exit.
 * Kept apart from run.ts so that `runCgi` can be used by people who load their app themselves.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { App } from '../../app-api/types.js';
import { runCgi, stderrLog } from './run.js';
import { writeAllSync } from './sink.js';

const LOAD_ERROR = 'Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nInternal Server Error\n';

/** The app a module exports: `app`, or the default export. */
function pickApp(mod: Record<string, unknown>): App | null {
  if (typeof mod.app === 'function') return mod.app as App;
  if (typeof mod.default === 'function') return mod.default as App;
  return null;
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
      const mod = (await import(pathToFileURL(resolve(appPath)).href)) as Record<string, unknown>;
      app = pickApp(mod);
      if (app === null) log.log('error', `${appPath} exports no app (TSGI_ERR_APP_LOAD): export a function as \`app\` or as the default export`);
    } catch (err) {
      log.log('error', `cannot load the app module ${appPath} (TSGI_ERR_APP_LOAD)`, err);
    }
  }
  if (app === null) writeAllSync(1, LOAD_ERROR);
  else await runCgi(app, { log });
  if (opts.exit !== false) process.exit(0);
}
