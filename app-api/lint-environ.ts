/**
 * The server side of the lint: is the environ the server built what SPEC.md #environ promises? Every
 * failure is a LintError with side `server`, thrown back at the server (or the middleware above the lint).
 */
import { LintError, type LintRuleId } from './lint-rules.js';

const REQUIRED = [
  'REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL',
  'tsgi.version', 'tsgi.url_scheme', 'tsgi.input', 'tsgi.errors', 'tsgi.multithread', 'tsgi.multiprocess',
  'tsgi.run_once', 'tsgi.input_terminated', 'tsgi.app_config',
] as const;

const FLAGS = ['tsgi.multithread', 'tsgi.multiprocess', 'tsgi.run_once', 'tsgi.input_terminated'] as const;

/** RFC 9110 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DIGITS = /^\d+$/;

function fail(rule: LintRuleId, detail: string): never {
  throw new LintError(rule, detail);
}

function isFunction(obj: unknown, key: string | symbol): boolean {
  return typeof (obj as Record<string | symbol, unknown>)[key] === 'function';
}

/** Check an environ before the app sees it. Throws LintError (side `server`) at the first violation. */
export function checkEnviron(env: unknown): void {
  if (env === null || typeof env !== 'object' || Array.isArray(env)) {
    fail('env.type', `the environ must be a plain object, got ${env === null ? 'null' : Array.isArray(env) ? 'an array' : typeof env}`);
  }
  const proto: unknown = Object.getPrototypeOf(env);
  if (proto !== Object.prototype && proto !== null) {
    fail('env.type', 'the environ must be a plain object (its prototype Object.prototype), not an instance of a class');
  }
  const e = env as Record<string, unknown>;
  for (const key of REQUIRED) {
    if (!(key in e) || e[key] === undefined) fail('env.required', `the environ has no ${key}; build it with gateway/environ.ts buildEnviron`);
  }
  for (const key of Object.keys(e)) {
    if (!key.includes('.') && typeof e[key] !== 'string') {
      fail('env.cgi-string', `CGI variable ${key} must be a string, got ${e[key] === null ? 'null' : typeof e[key]}; leave out a variable the request does not have`);
    }
  }
  const s = e as Record<string, string>;
  if (!TOKEN.test(s.REQUEST_METHOD)) fail('env.request-method', `REQUEST_METHOD ${JSON.stringify(s.REQUEST_METHOD)} is not an HTTP token`);
  const sn = s.SCRIPT_NAME;
  if (sn !== '' && (sn[0] !== '/' || sn.endsWith('/'))) {
    fail('env.script-name', `SCRIPT_NAME ${JSON.stringify(sn)} must be '' or start with '/' and not end with '/' (mounting at / means SCRIPT_NAME '')`);
  }
  const pi = s.PATH_INFO;
  if (pi !== '' && pi[0] !== '/') fail('env.path-info', `PATH_INFO ${JSON.stringify(pi)} must be '' or start with '/'`);
  if (s.CONTENT_LENGTH !== undefined && !DIGITS.test(s.CONTENT_LENGTH)) {
    fail('env.content-length', `CONTENT_LENGTH ${JSON.stringify(s.CONTENT_LENGTH)} must be decimal digits, or absent when the length is unknown`);
  }
  for (const key of ['HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH']) {
    if (key in e) fail('env.http-content', `the environ has ${key}: the request's ${key.slice(5)} belongs in ${key.slice(5)} only`);
  }
  if ('HTTP_PROXY' in e) fail('env.httpoxy', 'the environ has HTTP_PROXY: drop the Proxy request header (httpoxy, CVE-2016-5385)');
  if (s.SERVER_NAME === '') fail('env.server-name', 'SERVER_NAME is empty: use the Host header, else the local address, else localhost');
  if (s.SERVER_PORT !== '' && !DIGITS.test(s.SERVER_PORT)) fail('env.server-port', `SERVER_PORT ${JSON.stringify(s.SERVER_PORT)} must be decimal digits (or '' on a unix socket)`);
  if (!/^HTTP\/\d(\.\d)?$/.test(s.SERVER_PROTOCOL)) fail('env.server-protocol', `SERVER_PROTOCOL ${JSON.stringify(s.SERVER_PROTOCOL)} is not HTTP/major[.minor]`);
  if (s.REMOTE_PORT !== undefined && !DIGITS.test(s.REMOTE_PORT)) fail('env.remote-port', `REMOTE_PORT ${JSON.stringify(s.REMOTE_PORT)} must be decimal digits`);

  const scheme = e['tsgi.url_scheme'];
  if (scheme !== 'http' && scheme !== 'https') fail('env.url-scheme', `tsgi.url_scheme must be 'http' or 'https', got ${JSON.stringify(scheme)}`);
  if (s.HTTPS !== undefined) {
    const on = /^(on|1)$/i.test(s.HTTPS);
    if (on !== (scheme === 'https')) fail('env.https', `HTTPS=${JSON.stringify(s.HTTPS)} disagrees with tsgi.url_scheme ${JSON.stringify(scheme)}`);
  }
  const version = e['tsgi.version'];
  if (!Array.isArray(version) || version.length !== 2 || version[0] !== 1 || version[1] !== 0) {
    fail('env.version', `tsgi.version must be [1, 0], got ${JSON.stringify(version)}`);
  }
  const input = e['tsgi.input'];
  if (input === null || typeof input !== 'object' || !['read', 'readline', 'readSync'].every((k) => isFunction(input, k)) || !isFunction(input, Symbol.asyncIterator)) {
    fail('env.input', 'tsgi.input must have read(), readline(), readSync() and [Symbol.asyncIterator] (use gateway/input.ts BodyInput)');
  }
  const errors = e['tsgi.errors'];
  if (errors === null || typeof errors !== 'object' || !isFunction(errors, 'write') || !isFunction(errors, 'flush')) {
    fail('env.errors', 'tsgi.errors must have write(string) and flush()');
  }
  for (const key of FLAGS) {
    if (typeof e[key] !== 'boolean') fail('env.flags', `${key} must be a boolean, got ${JSON.stringify(e[key])}`);
  }
  const config = e['tsgi.app_config'];
  if (config === null || typeof config !== 'object' || Array.isArray(config) || Object.values(config).some((v) => typeof v !== 'string')) {
    fail('env.app-config', 'tsgi.app_config must be an object whose values are strings ({} when there is no [app] section)');
  }
}
