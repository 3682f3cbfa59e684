/**
 * The rules `lint()` checks, one row per rule id. Each id is written in app-api/SPEC.md next to the rule it
 * names, and `test/lint.test.ts` pins this table against SPEC.md and makes every rule fail at least once, so
 * the spec, the lint and the tests cannot drift apart.
 */

import { errorMessage, TsgiError } from './errors.js';

/** Which side broke the rule: the server (or middleware acting as one) or the application. */
export type LintSide = 'server' | 'app';

/** One rule: who must keep it, where SPEC.md states it, and what it says. */
export interface LintRule {
  side: LintSide;
  /** The SPEC.md section anchor, without `#`. */
  section: string;
  summary: string;
}

/** The table. Ids are stable: messages, docs and users' notes cite them. */
export const LINT_RULES = {
  'app.signature': { side: 'app', section: 'application', summary: 'the app is a function' },
  'server.call': { side: 'server', section: 'application', summary: 'the server calls app(environ, startResponse) with a startResponse function' },

  // The environ the server built.
  'env.type': { side: 'server', section: 'environ', summary: 'the environ is a plain object' },
  'env.required': { side: 'server', section: 'environ', summary: 'every required key is present' },
  'env.cgi-string': { side: 'server', section: 'cgi-variables', summary: 'keys without a dot are CGI variables and hold strings' },
  'env.request-method': { side: 'server', section: 'cgi-variables', summary: 'REQUEST_METHOD is a non-empty HTTP token' },
  'env.script-name': { side: 'server', section: 'cgi-variables', summary: "SCRIPT_NAME is '' or starts with '/' and does not end with '/'" },
  'env.path-info': { side: 'server', section: 'cgi-variables', summary: "PATH_INFO is '' or starts with '/'" },
  'env.content-length': { side: 'server', section: 'cgi-variables', summary: 'CONTENT_LENGTH, when present, is decimal digits' },
  'env.http-content': { side: 'server', section: 'cgi-variables', summary: 'no HTTP_CONTENT_TYPE or HTTP_CONTENT_LENGTH' },
  'env.httpoxy': { side: 'server', section: 'cgi-variables', summary: 'no HTTP_PROXY' },
  'env.server-name': { side: 'server', section: 'cgi-variables', summary: 'SERVER_NAME is not empty' },
  'env.server-port': { side: 'server', section: 'cgi-variables', summary: "SERVER_PORT is decimal digits, or '' where there is no port" },
  'env.server-protocol': { side: 'server', section: 'cgi-variables', summary: 'SERVER_PROTOCOL is HTTP/major[.minor]' },
  'env.remote-port': { side: 'server', section: 'cgi-variables', summary: 'REMOTE_PORT, when present, is decimal digits' },
  'env.https': { side: 'server', section: 'cgi-variables', summary: 'HTTPS agrees with tsgi.url_scheme' },
  'env.version': { side: 'server', section: 'tsgi-keys', summary: 'tsgi.version is [1, 0]' },
  'env.url-scheme': { side: 'server', section: 'tsgi-keys', summary: "tsgi.url_scheme is 'http' or 'https'" },
  'env.input': { side: 'server', section: 'tsgi-keys', summary: 'tsgi.input has read, readline, readSync and async iteration' },
  'env.errors': { side: 'server', section: 'tsgi-keys', summary: 'tsgi.errors has write and flush' },
  'env.flags': { side: 'server', section: 'tsgi-keys', summary: 'tsgi.multithread, multiprocess, run_once, input_terminated are booleans' },
  'env.app-config': { side: 'server', section: 'tsgi-keys', summary: 'tsgi.app_config is an object of strings' },

  // tsgi.input and tsgi.errors.
  'input.read-arg': { side: 'app', section: 'input', summary: 'read/readline/readSync take an integer or nothing' },
  'input.concurrent': { side: 'app', section: 'input', summary: 'one read of tsgi.input at a time' },
  'input.after-response': { side: 'app', section: 'input', summary: 'tsgi.input is not read after the response ended' },
  'input.result': { side: 'server', section: 'input', summary: 'reads give a Buffer of at most the size asked; readline stops after the first LF' },
  'input.sync-error': { side: 'server', section: 'input', summary: 'a readSync that cannot block throws TsgiError TSGI_ERR_SYNC_INPUT' },
  'errors.write-arg': { side: 'app', section: 'errors', summary: 'tsgi.errors.write takes a string' },

  // startResponse and write.
  'response.status': { side: 'app', section: 'start-response', summary: 'status is "NNN Reason" with NNN in 200-599' },
  'response.headers': { side: 'app', section: 'start-response', summary: 'headers is an array of [name, value] string pairs' },
  'response.header-name': { side: 'app', section: 'start-response', summary: 'header names are HTTP tokens' },
  'response.header-value': { side: 'app', section: 'start-response', summary: 'header values have no CR, LF, NUL or characters above U+00FF' },
  'response.hop-by-hop': { side: 'app', section: 'start-response', summary: 'no hop-by-hop headers (Connection, Transfer-Encoding, ...)' },
  'response.status-header': { side: 'app', section: 'start-response', summary: 'no Status header' },
  'response.content-length': { side: 'app', section: 'start-response', summary: 'Content-Length is digits and matches the body' },
  'response.start-twice': { side: 'app', section: 'start-response', summary: 'startResponse is called again only with excInfo' },
  'response.exc-info': { side: 'app', section: 'start-response', summary: 'the error startResponse re-threw is not swallowed' },
  'response.write-after-end': { side: 'app', section: 'start-response', summary: 'write() only until the response ended' },
  'response.start-before-body': { side: 'app', section: 'start-response', summary: 'startResponse before the first non-empty chunk or the end of the body' },
  'server.write-callable': { side: 'server', section: 'start-response', summary: 'startResponse returns the write callable' },
  'server.exc-info-rethrow': { side: 'server', section: 'start-response', summary: 'startResponse with excInfo after headers went out re-throws it' },

  // The body.
  'body.type': { side: 'app', section: 'body', summary: 'the app returns an iterable, an async iterable or a promise of one' },
  'body.chunk-type': { side: 'app', section: 'body', summary: 'chunks are strings or Uint8Arrays' },
  'body.close-once': { side: 'server', section: 'body', summary: 'the server calls close() exactly once' },
  'body.after-close': { side: 'server', section: 'body', summary: 'the server does not iterate the body after it ended or was closed' },
  'body.concurrent-next': { side: 'server', section: 'body', summary: 'the server awaits each next() before the following one' },
} as const satisfies Record<string, LintRule>;

/** A rule id. */
export type LintRuleId = keyof typeof LINT_RULES;

/**
 * A violation found by `lint()`: a TsgiError with code TSGI_ERR_LINT, plus the rule id and the side that
 * broke it. The message reads `tsgi lint [rule] side: what happened (SPEC.md #section)`.
 */
export class LintError extends TsgiError {
  readonly rule: LintRuleId;
  readonly side: LintSide;
  constructor(rule: LintRuleId, detail: string) {
    const r: LintRule = LINT_RULES[rule];
    super('TSGI_ERR_LINT', errorMessage('TSGI_ERR_LINT', { rule: `tsgi lint [${rule}] ${r.side}: ${detail} (SPEC.md #${r.section})` }));
    this.name = 'LintError';
    this.rule = rule;
    this.side = r.side;
  }
}
