/**
 * An app that leans on the tools its INI file switches on (examples/tools/server.cfg): it keeps a visit
 * counter in the session, logs in with a fresh session id, serves a page the response cache may keep, and
 * has a slow page for the timing log. Run it from the repository root:
 *
 *     npm run build && node dist/gateway/cli.js dist/examples/tools/app.js -C examples/tools/server.cfg
 */
import type { App, Environ } from '../../app-api/types.js';
import { regenerateSessionId } from '../../app-api/tools/index.js';

let renders = 0;

function session(environ: Environ): Record<string, unknown> {
  return environ['tsgi.session'] as Record<string, unknown>;
}

export const app: App = async (environ, startResponse) => {
  // Pages that depend on the session say so: the response cache (tools.caching) must not keep them.
  const text = (status: string, body: string, headers: [string, string][] = [['Cache-Control', 'private']]) => {
    startResponse(status, [['Content-Type', 'text/plain; charset=utf-8'], ...headers]);
    return [body];
  };
  switch (environ.PATH_INFO) {
    case '/': {
      const s = session(environ);
      s.visits = Number(s.visits ?? 0) + 1;
      return text('200 OK', `visit ${String(s.visits)}${s.user !== undefined ? ` as ${String(s.user)}` : ''}\n`);
    }
    case '/login': {
      // A new id at login: an id a client held before logging in is worthless afterwards.
      regenerateSessionId(environ);
      session(environ).user = new URLSearchParams(environ.QUERY_STRING).get('user') ?? 'guest';
      return text('200 OK', 'logged in\n');
    }
    case '/cached':
      renders++;
      return text('200 OK', `rendered ${renders} time(s)\n`, [['Cache-Control', 'max-age=60']]);
    case '/slow':
      await new Promise((r) => setTimeout(r, 300));
      return text('200 OK', 'slow\n');
    default:
      return text('404 Not Found', 'not found\n');
  }
};

export default app;
