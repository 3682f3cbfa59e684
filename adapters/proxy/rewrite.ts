/**
 * Apply a trusted proxy's view to the CGI variables, or strip what an untrusted peer sent. The scheme is
 * written as HTTPS (on / absent) because gateway/environ.ts buildEnviron derives `tsgi.url_scheme` from
 * HTTPS: the two cannot disagree.
 *
 * Nothing here deletes a key from the object it is given: a `delete` turns V8's object into a hash
 * dictionary for the rest of the request (every environ store and read after it). The functions name what
 * must go, and `withoutVars` builds the object again once without it, with the room of
 * gateway/core/cgi-object.ts: proxy mode went from 5.8-6.6 to 4.2-4.3 us per hello-world request with both
 * changes (`npm run bench:path`, the proxy row, sixth session).
 */
import type { CgiVars } from '../../app-api/types.js';
import { CgiObject, dropUnset } from '../../gateway/core/cgi-object.js';
import type { ForwardedView } from './forwarded.js';
import { FORWARDED_CGI_VARS } from './headers.js';

/** The environ key (a CGI-variable-level key, so it crosses to pool workers with them) of the socket peer. */
export const PROXY_ADDR_KEY = 'tsgi.proxy_addr';

/** The forwarded-header variables present that must go (all of them, or those not in `keep`). */
export function forwardedToStrip(cgi: CgiVars, keep?: ReadonlySet<string>): string[] {
  const names: string[] = [];
  for (const name of FORWARDED_CGI_VARS) {
    if (cgi[name] !== undefined && keep?.has(name) !== true) names.push(name);
  }
  return names;
}

/** `cgi` without the variables `names` lists: a new object, or `cgi` itself when none. */
export function withoutVars(cgi: CgiVars, names: readonly string[]): CgiVars {
  if (names.length === 0) return cgi;
  const out = new CgiObject(); // room for every variable: see gateway/core/cgi-object.ts
  // Usually one name goes (REMOTE_PORT, the proxy's): compared as it is, without a search per key.
  const one = names.length === 1 ? names[0] : undefined;
  for (const key in cgi) {
    if (one !== undefined ? key === one : names.includes(key)) continue;
    out[key] = cgi[key];
  }
  return dropUnset(out);
}

/** Split `host[:port]` / `[v6][:port]` into the name (lower case) and the port ('' when none). */
function splitHost(host: string): [name: string, port: string] {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return [host.slice(0, end + 1).toLowerCase(), host.slice(end + 2)];
  }
  const colon = host.lastIndexOf(':');
  return colon === -1 ? [host.toLowerCase(), ''] : [host.slice(0, colon).toLowerCase(), host.slice(colon + 1)];
}

/**
 * Rewrite `cgi` in place from a trusted proxy's view (`peer` is the socket peer the front saw); returns the
 * variables that no longer apply, which the caller drops with `withoutVars` (added to `drop`).
 */
export function applyForwarded(cgi: CgiVars, peer: string, view: ForwardedView, drop: string[] = []): string[] {
  cgi[PROXY_ADDR_KEY] = peer;
  if (view.remoteAddr !== peer) {
    cgi.REMOTE_ADDR = view.remoteAddr;
    // The front's port and reverse-DNS name were the proxy's, not the client's.
    if (view.remotePort !== undefined) cgi.REMOTE_PORT = view.remotePort;
    else if (cgi.REMOTE_PORT !== undefined) drop.push('REMOTE_PORT');
    if (cgi.REMOTE_HOST !== undefined) drop.push('REMOTE_HOST');
  } else if (view.remotePort !== undefined) cgi.REMOTE_PORT = view.remotePort;

  let https = cgi.HTTPS === 'on' || cgi.HTTPS === '1';
  if (view.scheme === 'https') {
    cgi.HTTPS = 'on';
    https = true;
  } else if (view.scheme === 'http' && cgi.HTTPS !== undefined) {
    drop.push('HTTPS');
    https = false;
  }
  const defaultPort = https ? '443' : '80';

  if (view.host !== undefined) {
    const [name, port] = splitHost(view.host);
    cgi.HTTP_HOST = view.host;
    cgi.SERVER_NAME = name;
    cgi.SERVER_PORT = port !== '' ? port : (view.port ?? defaultPort);
  } else if (view.port !== undefined) cgi.SERVER_PORT = view.port;
  else if (view.scheme !== undefined) {
    // The listener's own port means nothing to a client behind a proxy: take Host's port, or the scheme's.
    const host = cgi.HTTP_HOST;
    const port = host === undefined ? '' : splitHost(host)[1];
    cgi.SERVER_PORT = port !== '' ? port : defaultPort;
  }

  if (view.prefix !== undefined && view.prefix !== '') cgi.SCRIPT_NAME = view.prefix + (cgi.SCRIPT_NAME ?? '');
  return drop;
}
