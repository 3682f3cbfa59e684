/**
 * The request as a URL, rebuilt from the CGI variables (PEP 3333's "URL reconstruction"): the one place the
 * bridges that hand a request to a Node or fetch app turn SCRIPT_NAME, PATH_INFO and QUERY_STRING back into a
 * request target. It is the inverse of gateway/environ.ts (which decodes a target into CGI variables), not a
 * copy of it: that file parses, this one serialises, and app-api may not import the gateway.
 */
import type { Environ } from '../types.js';

// RFC 3986 pchar plus '/': everything else in a decoded path is %-encoded again (as UTF-8).
const NOT_PATH_CHAR = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/gu;

// The same set as a whole-string test: most paths need no escape, and testing is cheaper than a replace.
const PATH_CHARS_ONLY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

/** %-encode a decoded path (SCRIPT_NAME or PATH_INFO) for use in a URL. `%2F` decoded to `/` stays `/`. */
export function encodePath(path: string): string {
  if (PATH_CHARS_ONLY.test(path)) return path;
  return path.replace(NOT_PATH_CHAR, (c) => encodeURIComponent(c));
}

/** `PATH_INFO?QUERY_STRING`, encoded: the target relative to the mount point (what a mounted express sub-app sees). */
export function relativeTarget(environ: Environ): string {
  const path = encodePath(environ.PATH_INFO === '' ? '/' : environ.PATH_INFO);
  return environ.QUERY_STRING === '' ? path : `${path}?${environ.QUERY_STRING}`;
}

/** `SCRIPT_NAME PATH_INFO?QUERY_STRING`, encoded: the full origin-form target. */
export function fullTarget(environ: Environ): string {
  const path = encodePath(environ.SCRIPT_NAME + environ.PATH_INFO) || '/';
  return environ.QUERY_STRING === '' ? path : `${path}?${environ.QUERY_STRING}`;
}

/** `http` or `https`, from `tsgi.url_scheme`. */
export function urlScheme(environ: Environ): 'http' | 'https' {
  return environ['tsgi.url_scheme'] === 'https' ? 'https' : 'http';
}

/** `host[:port]`: the Host header when there is one, else SERVER_NAME and SERVER_PORT (no default port). */
export function authority(environ: Environ): string {
  const host = environ.HTTP_HOST;
  if (typeof host === 'string' && host !== '') return host;
  const name = environ.SERVER_NAME !== '' ? environ.SERVER_NAME : 'localhost';
  const port = environ.SERVER_PORT;
  const defaultPort = urlScheme(environ) === 'https' ? '443' : '80';
  return port !== '' && port !== defaultPort ? `${name}:${port}` : name;
}

/** `scheme://host[:port]` (urlScheme, authority). */
export function origin(environ: Environ): string {
  return `${urlScheme(environ)}://${authority(environ)}`;
}

/** The absolute request URL, as `new Request(url)` wants it. */
export function requestUrl(environ: Environ): string {
  return origin(environ) + fullTarget(environ);
}

/**
 * The request headers in the environ, as `[name, value]` pairs with lower-case names: HTTP_* plus
 * CONTENT_TYPE and CONTENT_LENGTH. Values are kept as the gateway gave them (Latin-1 text, byte for byte).
 */
export function requestHeaders(environ: Environ): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const key in environ) {
    if (key.startsWith('HTTP_')) {
      const value = environ[key];
      if (typeof value === 'string') out.push([key.slice(5).toLowerCase().replace(/_/g, '-'), value]);
    }
  }
  if (environ.CONTENT_TYPE !== undefined && environ.CONTENT_TYPE !== '') out.push(['content-type', environ.CONTENT_TYPE]);
  if (environ.CONTENT_LENGTH !== undefined && environ.CONTENT_LENGTH !== '') out.push(['content-length', environ.CONTENT_LENGTH]);
  return out;
}

/**
 * True when the request carries a body: a non-zero CONTENT_LENGTH, or a chunked upload the front passed on.
 * The one rule, for an environ or for the CGI variables a front just built (the HTTP front reads it).
 */
export function hasRequestBody(environ: Readonly<Record<string, unknown>>): boolean {
  const length = environ.CONTENT_LENGTH;
  if (length !== undefined && length !== '' && length !== '0') return true;
  return typeof environ.HTTP_TRANSFER_ENCODING === 'string';
}
