/**
 * `urlmap({...})`: mount several apps under path prefixes (and optionally host names), as
 * Plack::App::URLMap. The longest matching prefix wins, on path-segment boundaries (`/app` matches `/app`
 * and `/app/x`, never `/application`); entries with a host are tried before entries without one. The
 * matched prefix moves from PATH_INFO to SCRIPT_NAME, in a shallow copy of the environ so the change never
 * leaks to the caller (SPEC.md #middleware, [middleware.copy-environ]).
 */
import { tsgiError } from './errors.js';
import type { App, Environ } from './types.js';

/** Mount points -> apps. A key is a path (`/`, `/app`) or a URL with a host (`http://host.example/x`). */
export type UrlMapEntries = Record<string, App>;

interface Mount {
  /** Lower-cased host (with `:port` if the key had one), or null for any host. */
  host: string | null;
  /** The prefix without a trailing `/`; '' for the root. */
  location: string;
  app: App;
}

const NOT_FOUND = Buffer.from('Not Found\n');

function parseKey(key: string): { host: string | null; location: string } {
  let host: string | null = null;
  let location = key;
  const m = /^https?:\/\/([^/?#]+)(.*)$/i.exec(key);
  if (m !== null) {
    host = m[1].toLowerCase();
    location = m[2] === '' ? '/' : m[2];
  }
  if (location[0] !== '/') {
    throw tsgiError('TSGI_ERR_CONFIG', { where: 'urlmap', problem: `mount point ${JSON.stringify(key)} is neither a path nor an http(s):// URL`, fix: "start it with '/' (e.g. /app) or write http://host/path" });
  }
  if (/[?#]/.test(location)) throw tsgiError('TSGI_ERR_CONFIG', { where: 'urlmap', problem: `mount point ${JSON.stringify(key)} has a query or fragment`, fix: 'remove the ?query or #fragment: a mount point is a path' });
  return { host, location: location.replace(/\/+$/, '') };
}

/** The host part of HTTP_HOST / SERVER_NAME, lower-cased, for comparison with a mount's host. */
function matchesHost(env: Environ, host: string): boolean {
  const httpHost = typeof env.HTTP_HOST === 'string' ? env.HTTP_HOST.toLowerCase() : undefined;
  return httpHost === host || env.SERVER_NAME.toLowerCase() === host;
}

/**
 * Build an app that dispatches to `entries` by path prefix (and host). Paths are matched against the
 * decoded PATH_INFO, so write prefixes decoded (`/caf\u00e9`, not `/caf%C3%A9`). A request that matches no
 * entry gets `404 Not Found`.
 *
 *     urlmap({ '/': site, '/api': api, 'http://admin.example/': admin })
 */
export function urlmap(entries: UrlMapEntries): App {
  const mounts: Mount[] = [];
  for (const key of Object.keys(entries)) {
    const app = entries[key];
    if (typeof app !== 'function') throw tsgiError('TSGI_ERR_CONFIG', { where: 'urlmap', problem: `the value for ${JSON.stringify(key)} is not an app function`, fix: 'map each mount point to an app (environ, startResponse) => body' });
    mounts.push({ ...parseKey(key), app });
  }
  // Host entries first (the more specific ones), then longer prefixes before shorter ones.
  mounts.sort((a, b) => (b.host?.length ?? 0) - (a.host?.length ?? 0) || b.location.length - a.location.length);

  return function urlmapApp(environ, startResponse) {
    const path = environ.PATH_INFO;
    for (const m of mounts) {
      if (m.host !== null && !matchesHost(environ, m.host)) continue;
      const loc = m.location;
      if (loc !== '' && !(path === loc || (path.startsWith(loc) && path.charCodeAt(loc.length) === 47 /* / */))) continue;
      const env: Environ = { ...environ, SCRIPT_NAME: environ.SCRIPT_NAME + loc, PATH_INFO: path.slice(loc.length) };
      return m.app(env, startResponse);
    }
    startResponse('404 Not Found', [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', String(NOT_FOUND.length)],
    ]);
    return [NOT_FOUND];
  };
}
