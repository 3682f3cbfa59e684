/**
 * The environ, built in one place. Fronts produce CGI variables in one of two ways and this file owns both:
 *
 * - `cgiFromHttp`: a front that speaks HTTP itself (the built-in server, inject()) turns the request line
 *   and headers into CGI variables here;
 * - `cgiFromGateway`: a front whose peer already sent CGI variables (FastCGI, SCGI, CGI) cleans them here.
 *
 * Either way `buildEnviron` adds the `tsgi.*` keys. The security rules of the reliability table live here
 * and nowhere else: no HTTP_PROXY (httpoxy), header names with `_` dropped (X_Forwarded_For must not
 * shadow X-Forwarded-For), NUL and invalid UTF-8 in the path refused, a path outside the mount refused.
 */
import { TsgiError, tsgiError } from '../../app-api/errors.js';
import type { CgiVars, Environ, ErrorStream, InputStream } from '../../app-api/types.js';
import { isValidHost } from './host.js';
import { CgiObject } from './cgi-object.js';
import { defineClientGone, type ClientGone } from './client-gone.js';

/** What a front that parsed HTTP itself knows about a request. */
export interface HttpRequestHead {
  method: string;
  /** The request target as sent: origin-form `/p?q`, absolute-form, or `*`. */
  url: string;
  /** `1.0`, `1.1` or `2.0`. */
  httpVersion: string;
  /** Node's flat raw header list: name, value, name, value... */
  rawHeaders: readonly string[];
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
  scheme: 'http' | 'https';
}

/** Options that shape the CGI variables. */
export interface CgiOptions {
  /** Mount point: requests must be under it; it becomes SCRIPT_NAME. '' (default) mounts at the root. */
  scriptName?: string;
  /** SERVER_SOFTWARE. */
  serverSoftware?: string;
  /**
   * cgiFromGateway: the front already left out every variable `removedFromGateway` names while it built
   * the object (the FastCGI, SCGI and CGI parsers do), so there is nothing to check or delete again.
   */
  prefiltered?: boolean;
}

/** SERVER_SOFTWARE default. */
export const SERVER_SOFTWARE = 'tsgi/0.1';

// Header name -> CGI name. Bounded so a client sending random names cannot grow it without limit.
const cgiNameCache = new Map<string, string | null>();
const CGI_NAME_CACHE_MAX = 512;

/** `Content-Type` -> CONTENT_TYPE, `Accept` -> HTTP_ACCEPT; null for names that never reach the environ. */
function cgiName(header: string): string | null {
  let name = cgiNameCache.get(header);
  if (name !== undefined) return name;
  const lower = header.toLowerCase();
  if (lower.includes('_')) name = null; // header-name collision: X_Forwarded_For would alias X-Forwarded-For
  else if (lower === 'proxy') name = null; // httpoxy: never let a client set HTTP_PROXY
  else if (lower.startsWith(':')) name = null; // HTTP/2 pseudo-headers (RFC 9113 8.3) are the request line, not headers
  else if (lower === 'content-type') name = 'CONTENT_TYPE';
  else if (lower === 'content-length') name = 'CONTENT_LENGTH';
  else name = 'HTTP_' + lower.toUpperCase().replace(/-/g, '_');
  if (cgiNameCache.size < CGI_NAME_CACHE_MAX) cgiNameCache.set(header, name);
  return name;
}

/**
 * Percent-decode a path into PATH_INFO text. Decoded bytes are read as UTF-8, the same on every front;
 * invalid UTF-8, bad escapes and NUL are a 400 (not a guess).
 */
export function decodePath(raw: string): string {
  if (raw.indexOf('%') === -1) return raw;
  let out: string;
  try {
    out = decodeURIComponent(raw);
  } catch {
    throw tsgiError('TSGI_ERR_BAD_REQUEST', { problem: `request path ${JSON.stringify(raw.slice(0, 200))} has a bad %-escape or is not UTF-8` });
  }
  if (out.indexOf('\0') !== -1) throw tsgiError('TSGI_ERR_BAD_REQUEST', { problem: 'request path contains NUL' });
  return out;
}

/**
 * Split a decoded path at the mount point. `/app/x` under `/app` -> ['/app', '/x']; `/app` -> ['/app', ''];
 * `/application` is outside `/app` (segment boundary) and is a 404.
 */
export function splitMount(path: string, scriptName: string): [scriptName: string, pathInfo: string] {
  if (scriptName === '' || scriptName === '/') return ['', path];
  if (path === scriptName) return [scriptName, ''];
  if (path.startsWith(scriptName) && path.charCodeAt(scriptName.length) === 47 /* / */) return [scriptName, path.slice(scriptName.length)];
  // 404, not 400: the request is well formed, only not for this app.
  throw tsgiError('TSGI_ERR_BAD_REQUEST', { problem: `path ${JSON.stringify(path.slice(0, 200))} is outside the mount point ${scriptName}` }, { status: 404 });
}

/**
 * Gateway peers (FastCGI, SCGI) send these variables percent-DECODED, as raw bytes: they are read as UTF-8,
 * strictly, as decodePath reads paths on the HTTP front, so an app sees the same PATH_INFO behind every
 * front. Every other variable is Latin-1 (byte-preserving), as Node reads HTTP header values. The one rule
 * every gateway front applies when it turns bytes into CGI strings.
 */
export const UTF8_CGI_VARS: ReadonlySet<string> = new Set(['SCRIPT_NAME', 'PATH_INFO', 'PATH_TRANSLATED']);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 decoding for UTF8_CGI_VARS values: null when the bytes are not UTF-8 (the front answers 400). */
export function decodeUtf8Var(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Split `host[:port]` / `[v6]:port`, lower-cased host. */
function hostName(host: string): string {
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

/** SERVER_PROTOCOL of an HTTP version: the usual ones are constants, not a string built per request. */
function serverProtocol(version: string): string {
  if (version === '1.1') return 'HTTP/1.1';
  if (version === '2.0') return 'HTTP/2';
  if (version === '1.0') return 'HTTP/1.0';
  return 'HTTP/' + version;
}

/** Build CGI variables from an HTTP request head. Throws TsgiError (status 400/404) for requests it refuses. */
export function cgiFromHttp(head: HttpRequestHead, opts: CgiOptions = {}): CgiVars {
  let target = head.url;
  if (target.charCodeAt(0) !== 47 /* / */) {
    // asterisk-form (`OPTIONS *`, RFC 9112 3.2.4): the request is about the server, not a path: PATH_INFO
    // is '' (a PATH_INFO is '' or starts with '/'), REQUEST_URI keeps the '*'.
    if (target === '*') target = '';
    else {
      // absolute-form (RFC 9112 3.2.2): keep the path; the Host header still names the server.
      const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target);
      if (m === null) throw tsgiError('TSGI_ERR_BAD_REQUEST', { problem: `request target ${JSON.stringify(target.slice(0, 200))} is not a path` });
      target = target.slice(m[0].length) || '/';
    }
  }
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const path = decodePath(rawPath);
  const [scriptName, pathInfo] = target === '' ? [opts.scriptName === '/' ? '' : (opts.scriptName ?? ''), ''] : splitMount(path, opts.scriptName ?? '');

  const cgi = new CgiObject(
    head.method,
    scriptName,
    pathInfo,
    q === -1 ? '' : target.slice(q + 1),
    '',
    head.localPort === undefined ? '' : String(head.localPort),
    serverProtocol(head.httpVersion),
    opts.serverSoftware ?? SERVER_SOFTWARE,
    'CGI/1.1',
    head.remoteAddress ?? '',
  );
  cgi.REQUEST_URI = head.url;
  if (head.remotePort !== undefined) cgi.REMOTE_PORT = String(head.remotePort);
  if (head.scheme === 'https') cgi.HTTPS = 'on';

  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = cgiName(raw[i]);
    if (name === null) continue;
    const prev = cgi[name];
    if (prev === undefined) cgi[name] = raw[i + 1];
    else if (name === 'CONTENT_LENGTH' || name === 'CONTENT_TYPE') continue; // the HTTP parser already refused conflicting ones
    else cgi[name] = joinRepeatedVar(name, prev, raw[i + 1]);
  }
  // HTTP/2 sends :authority instead of Host; node maps it to the host header in the compat layer.
  const host = cgi.HTTP_HOST;
  cgi.SERVER_NAME = host !== undefined && host !== '' ? hostName(host) : (head.localAddress ?? 'localhost');
  return cgi;
}

/** Every name `removedFromGateway` can answer true for. */
const GATEWAY_REMOVABLE = ['HTTP_PROXY', 'HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH', 'CONTENT_LENGTH', 'CONTENT_TYPE'] as const;

/**
 * The rule for the variables a gateway peer sent (FastCGI params, SCGI headers, a CGI process's
 * environment), written once: true for a variable that never reaches the environ. An empty CONTENT_LENGTH
 * or CONTENT_TYPE (nginx sends both, empty, with every GET); HTTP_PROXY (httpoxy: a client's `Proxy:`
 * header must not become proxy settings); HTTP_CONTENT_TYPE and HTTP_CONTENT_LENGTH (the body's type and
 * length are CONTENT_TYPE and CONTENT_LENGTH, without the prefix). The parsers apply it while they build
 * their object (`prefiltered`): a later `delete` turns the object into a slow dictionary for the rest of
 * the request (every environ store and read).
 */
export function removedFromGateway(name: string, value: string): boolean {
  if (name === 'CONTENT_LENGTH' || name === 'CONTENT_TYPE') return value === '';
  return name === 'HTTP_PROXY' || name === 'HTTP_CONTENT_TYPE' || name === 'HTTP_CONTENT_LENGTH';
}

/**
 * A request header repeated on several lines, as one value: joined with '; ' for Cookie (RFC 6265 5.4),
 * else ', ' (RFC 9110 5.3). The HTTP front joins repeated header lines this way, and so do the FastCGI and
 * SCGI parsers when a web server sends one variable per header line (nginx up to 1.22).
 */
export function joinRepeatedVar(name: string, prev: string, value: string): string {
  return prev + (name === 'HTTP_COOKIE' ? '; ' : ', ') + value;
}

/**
 * Clean CGI variables that a gateway peer sent (FastCGI params, SCGI headers, CGI process.env): drop what
 * `removedFromGateway` names (unless the front did, `prefiltered`), fill the keys the spec requires, apply
 * the mount point. Takes ownership of `params` and returns it cleaned: fronts build a fresh object per
 * request, and copying it again was a measurable share of the FastCGI hot path.
 */
export function cgiFromGateway(params: CgiVars, opts: CgiOptions = {}): CgiVars {
  const cgi = params;
  if (opts.prefiltered !== true) {
    for (const name of GATEWAY_REMOVABLE) {
      const value = cgi[name];
      if (value !== undefined && removedFromGateway(name, value)) delete cgi[name];
    }
  }
  cgi.REQUEST_METHOD ??= 'GET';
  cgi.QUERY_STRING ??= '';
  cgi.SERVER_PROTOCOL ??= 'HTTP/1.0';
  cgi.SERVER_NAME ??= 'localhost';
  cgi.SERVER_PORT ??= '';
  cgi.REMOTE_ADDR ??= '';
  cgi.GATEWAY_INTERFACE ??= 'CGI/1.1';
  cgi.SERVER_SOFTWARE ??= opts.serverSoftware ?? SERVER_SOFTWARE;
  let scriptName = cgi.SCRIPT_NAME ?? '';
  let pathInfo = cgi.PATH_INFO ?? '';
  // Servers differ (Apache can send SCRIPT_NAME '/cgi/', PATH_INFO without '/'): normalise to the spec's form.
  if (pathInfo !== '' && pathInfo.charCodeAt(0) !== 47) pathInfo = '/' + pathInfo;
  if (scriptName.length > 1 && scriptName.endsWith('/')) {
    scriptName = scriptName.slice(0, -1);
    pathInfo = '/' + pathInfo.replace(/^\//, '');
  }
  if (opts.scriptName !== undefined) {
    // The web server's split (nginx passes the whole path as SCRIPT_NAME) is not the app's mount point: redo it.
    const full = scriptName + pathInfo;
    [scriptName, pathInfo] = splitMount(full, opts.scriptName);
  }
  if (scriptName === '/') scriptName = '';
  if (scriptName.indexOf('\0') !== -1 || pathInfo.indexOf('\0') !== -1) {
    throw tsgiError('TSGI_ERR_BAD_REQUEST', { problem: 'SCRIPT_NAME or PATH_INFO contains NUL' });
  }
  const host = cgi.HTTP_HOST;
  if (host !== undefined && !isValidHost(host)) {
    // RFC 9112 3.2: more than one Host, or an invalid one, is a 400. Two Host lines arrive joined ("a, b").
    throw tsgiError('TSGI_ERR_BAD_REQUEST', { problem: `HTTP_HOST ${JSON.stringify(host.slice(0, 200))} is not one valid host[:port] (two Host headers, or an invalid one)` });
  }
  cgi.SCRIPT_NAME = scriptName;
  cgi.PATH_INFO = pathInfo;
  return cgi;
}

/** What the runtime knows that the request does not. */
export interface EnvironContext {
  input: InputStream;
  errors: ErrorStream;
  multithread: boolean;
  multiprocess: boolean;
  runOnce: boolean;
  appConfig: Readonly<Record<string, string>>;
  /** Front-specific keys (RequestHead.extra); copied first, so the standard keys below win. */
  extra?: Readonly<Record<string, unknown>>;
  /** Becomes `tsgi.client_gone` (client-gone.ts); absent where the front cannot know. */
  clientGone?: ClientGone;
}

const VERSION = Object.freeze([1, 0] as const);

/** Add the `tsgi.*` keys. Takes ownership of `cgi`: the object becomes the environ (no copy on the hot path). */
export function buildEnviron(cgi: CgiVars, ctx: EnvironContext): Environ {
  const env = cgi as unknown as Environ;
  if (ctx.extra !== undefined) for (const key in ctx.extra) env[key] = ctx.extra[key];
  env['tsgi.version'] = VERSION;
  env['tsgi.url_scheme'] = cgi.HTTPS === 'on' || cgi.HTTPS === '1' ? 'https' : 'http';
  env['tsgi.input'] = ctx.input;
  env['tsgi.errors'] = ctx.errors;
  env['tsgi.multithread'] = ctx.multithread;
  env['tsgi.multiprocess'] = ctx.multiprocess;
  env['tsgi.run_once'] = ctx.runOnce;
  env['tsgi.input_terminated'] = true;
  env['tsgi.app_config'] = ctx.appConfig;
  if (ctx.clientGone !== undefined) defineClientGone(env, ctx.clientGone);
  return env;
}
