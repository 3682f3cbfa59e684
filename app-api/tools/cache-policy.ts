/**
 * What a shared response cache may keep and for how long (RFC 9111, the parts a gateway cache needs):
 * only GET (HEAD is answered from a GET's entry), only statuses cacheable by default, never `no-store`,
 * `private`, `no-cache`, `Vary: *` or a response setting a cookie; lifetime from `s-maxage`, else `max-age`,
 * else `Expires`, else the tool's `delay`.
 */
import type { Environ, HeaderList } from '../types.js';

const CACHEABLE_STATUS = new Set([200, 203, 204, 300, 301, 404, 405, 410, 414, 501]);

function header(headers: HeaderList, name: string): string | undefined {
  const all = headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  return all.length === 0 ? undefined : all.join(', ');
}

/** Cache-Control directives, lower-cased, with their values. */
export function cacheControl(value: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (value ?? '').split(',')) {
    const m = /^\s*([A-Za-z-]+)\s*(?:=\s*"?([^",]*)"?)?\s*$/.exec(part);
    if (m !== null) out.set(m[1].toLowerCase(), m[2] ?? '');
  }
  return out;
}

/** True when the request may be answered from the cache. */
export function requestMayUseCache(environ: Environ): boolean {
  const cc = cacheControl(environ.HTTP_CACHE_CONTROL as string | undefined);
  if (cc.has('no-store') || cc.has('no-cache') || /no-cache/i.test((environ.HTTP_PRAGMA as string | undefined) ?? '')) return false;
  // A shared cache must not hand one user's authorized answer to another.
  return environ.HTTP_AUTHORIZATION === undefined;
}

/** The names in the response's Vary header, lower-cased; undefined for `Vary: *`. */
export function varyNames(headers: HeaderList): string[] | undefined {
  const v = header(headers, 'vary');
  if (v === undefined) return [];
  const names = v.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  return names.includes('*') ? undefined : [...new Set(names)].sort();
}

/** Milliseconds the response may be served from the cache; 0 = do not store it. */
export function freshnessMs(status: string, headers: HeaderList, delayS: number, now = Date.now()): number {
  if (!CACHEABLE_STATUS.has(Number.parseInt(status, 10))) return 0;
  if (header(headers, 'set-cookie') !== undefined || varyNames(headers) === undefined) return 0;
  const cc = cacheControl(header(headers, 'cache-control'));
  if (cc.has('no-store') || cc.has('private') || cc.has('no-cache')) return 0;
  for (const d of ['s-maxage', 'max-age']) {
    if (cc.has(d)) {
      const n = Number(cc.get(d));
      return Number.isFinite(n) && n > 0 ? n * 1000 : 0;
    }
  }
  const expires = header(headers, 'expires');
  if (expires !== undefined) {
    const t = Date.parse(expires);
    return Number.isNaN(t) ? 0 : Math.max(0, t - now);
  }
  return delayS * 1000;
}
