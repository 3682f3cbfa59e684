/**
 * The CGI variables of a CGI process: picked from process.env, because the environment also holds whatever
 * the web server's own environment had (PATH, HOME, LANG, secrets of the admin's shell...), none of which is
 * request data. Kept: the meta-variables of RFC 3875 4.1, the HTTP_* protocol variables of 4.1.18 (never
 * HTTP_PROXY: httpoxy), and a few variables Apache, nginx and lighttpd all send that apps rely on.
 */
import { tsgiError } from '../../app-api/errors.js';
import type { CgiVars } from '../../app-api/types.js';
import { decodePath, removedFromGateway } from '../../gateway/core/environ.js';

/** RFC 3875 section 4.1 meta-variables. */
export const RFC3875_VARS: readonly string[] = [
  'AUTH_TYPE', 'CONTENT_LENGTH', 'CONTENT_TYPE', 'GATEWAY_INTERFACE', 'PATH_INFO', 'PATH_TRANSLATED',
  'QUERY_STRING', 'REMOTE_ADDR', 'REMOTE_HOST', 'REMOTE_IDENT', 'REMOTE_USER', 'REQUEST_METHOD',
  'SCRIPT_NAME', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL', 'SERVER_SOFTWARE',
];

/**
 * Widely sent extensions, kept because the environ needs them: HTTPS decides tsgi.url_scheme, REQUEST_URI
 * is the raw target, REMOTE_PORT and SERVER_ADDR complete the connection, DOCUMENT_ROOT and
 * SCRIPT_FILENAME locate files.
 */
export const EXTENSION_VARS: readonly string[] = ['HTTPS', 'REQUEST_URI', 'REQUEST_SCHEME', 'REMOTE_PORT', 'SERVER_ADDR', 'DOCUMENT_ROOT', 'SCRIPT_FILENAME'];

const KEEP = new Set([...RFC3875_VARS, ...EXTENSION_VARS]);

/**
 * The request's CGI variables out of a process environment, without what `removedFromGateway` drops (so
 * cgiFromGateway takes them `prefiltered`). `extra` names more variables to keep (for example
 * SSL_CLIENT_S_DN or UNIQUE_ID from Apache). Node has already decoded the values as UTF-8.
 */
export function cgiVarsFromEnv(env: NodeJS.ProcessEnv, extra: readonly string[] = []): CgiVars {
  const out: CgiVars = {};
  for (const key in env) {
    const value = env[key];
    if (value === undefined) continue;
    // removedFromGateway even for a name `extra` gives: httpoxy (CVE-2016-5385) is never a feature.
    if ((KEEP.has(key) || key.startsWith('HTTP_') || extra.includes(key)) && !removedFromGateway(key, value)) out[key] = value;
  }
  return out;
}

/** True when the request target's path (REQUEST_URI up to '?') is not UTF-8 once percent-decoded. */
function targetPathNotUtf8(requestUri: string): boolean {
  let path = requestUri;
  const q = path.indexOf('?');
  if (q !== -1) path = path.slice(0, q);
  // Raw (not %-encoded) bytes that are not UTF-8: Node already turned them into U+FFFD here too.
  if (path.includes('\uFFFD')) return true;
  try {
    decodePath(path);
    return false;
  } catch {
    return true;
  }
}

/**
 * Refuse (400, TSGI_ERR_BAD_REQUEST) a request whose decoded path was not UTF-8, which process.env hides:
 * Node decodes the environment as UTF-8 and replaces invalid bytes with U+FFFD, and Node 20 has no API for
 * the raw bytes, so PATH_INFO `/a%C3` reaches JavaScript as `/a\uFFFD`, indistinguishable from a path that
 * really holds U+FFFD (`/a%EF%BF%BD`). Every other front answers 400 for it ([env.path-info] in SPEC.md).
 *
 * REQUEST_URI tells them apart: it is the request target as the client sent it, still percent-encoded, so
 * it survives the environment intact (ASCII). The web server derived SCRIPT_NAME and PATH_INFO from it by
 * decoding and normalising (`..`, `//`), which keeps segments byte for byte, so an invalid sequence in the
 * path is also in REQUEST_URI. Refused when both hold: SCRIPT_NAME or PATH_INFO contains U+FFFD, and
 * REQUEST_URI's path does not decode to UTF-8. A path that really holds U+FFFD has a valid REQUEST_URI and
 * passes. Limits: without REQUEST_URI (it is not in RFC 3875; Apache, lighttpd and nginx send it) nothing
 * can be told and the app sees U+FFFD; after a rewrite (mod_rewrite to the script, an ErrorDocument),
 * PATH_INFO need not come from REQUEST_URI, and the check only ever fires when the client's own request
 * target is not UTF-8.
 */
export function checkPathEncoding(cgi: CgiVars): void {
  const uri = cgi.REQUEST_URI;
  if (uri === undefined) return;
  const mangled = (cgi.PATH_INFO ?? '').includes('\uFFFD') || (cgi.SCRIPT_NAME ?? '').includes('\uFFFD');
  if (mangled && targetPathNotUtf8(uri)) {
    throw tsgiError('TSGI_ERR_BAD_REQUEST', { problem: `the request path is not valid UTF-8 (REQUEST_URI ${JSON.stringify(uri.slice(0, 200))})` });
  }
}
