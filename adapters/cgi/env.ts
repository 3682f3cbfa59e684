/**
 * The CGI variables of a CGI process: picked from process.env, because the environment also holds whatever
 * the web server's own environment had (PATH, HOME, LANG, secrets of the admin's shell...), none of which is
 * request data. Kept: the meta-variables of RFC 3875 4.1, the HTTP_* protocol variables of 4.1.18 (never
 * HTTP_PROXY: httpoxy), and a few variables Apache, nginx and lighttpd all send that apps rely on.
 */
import type { CgiVars } from '../../app-api/types.js';

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
 * The request's CGI variables out of a process environment. `extra` names more variables to keep (for
 * example SSL_CLIENT_S_DN or UNIQUE_ID from Apache). Node has already decoded the values as UTF-8.
 */
export function cgiVarsFromEnv(env: NodeJS.ProcessEnv, extra: readonly string[] = []): CgiVars {
  const out: CgiVars = {};
  for (const key in env) {
    const value = env[key];
    if (value === undefined) continue;
    if (KEEP.has(key) || (key.startsWith('HTTP_') && key !== 'HTTP_PROXY') || extra.includes(key)) out[key] = value;
  }
  delete out.HTTP_PROXY; // even when `extra` names it: httpoxy (CVE-2016-5385) is never a feature
  return out;
}
