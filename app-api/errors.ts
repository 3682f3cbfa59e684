/**
 * Every error tsgi raises carries a stable `TSGI_ERR_*` code, as Fastify's `FST_ERR_*`.
 *
 * Codes are part of the public API: users match on them, docs list them, and `test/errors.test.ts`
 * pins this table. A retired code is never reused for something else.
 */

/** The table of codes: code -> one line saying what went wrong. */
export const ERROR_CODES = {
  TSGI_ERR_BAD_STATUS: 'the app passed an invalid status line to startResponse',
  TSGI_ERR_BAD_HEADER: 'the app passed an invalid response header (bad name, CR/LF/NUL in a value, or not a [name, value] pair)',
  TSGI_ERR_START_RESPONSE_TWICE: 'startResponse was called again without excInfo',
  TSGI_ERR_NO_START_RESPONSE: 'the app returned a body without calling startResponse',
  TSGI_ERR_BAD_BODY: 'the app returned something that is not an iterable, an async iterable or a promise of one',
  TSGI_ERR_BAD_CHUNK: 'a body chunk is neither a string nor a Uint8Array',
  TSGI_ERR_CONTENT_LENGTH_MISMATCH: 'the body was longer or shorter than the Content-Length the app declared',
  TSGI_ERR_SYNC_INPUT: 'a synchronous read of tsgi.input was attempted where the runtime cannot block',
  TSGI_ERR_INPUT_CLOSED: 'tsgi.input was read after the request ended or the client went away',
  TSGI_ERR_BAD_REQUEST: 'the request could not be turned into an environ (bad path encoding, NUL, outside the mount)',
  TSGI_ERR_LINT: 'the lint middleware found a violation of app-api/SPEC.md',
  TSGI_ERR_CONFIG: 'the configuration file or command line has an error',
  TSGI_ERR_APP_LOAD: 'the application module could not be loaded or has no app export',
  TSGI_ERR_NOT_YET: 'the option is parsed but the feature is not available in this version',
  TSGI_ERR_PROTOCOL: 'a peer sent malformed protocol bytes; that connection was closed',
  TSGI_ERR_OVERLOAD: 'the worker pool and its queue are full',
  TSGI_ERR_TIMEOUT: 'the request ran past its time limit',
  TSGI_ERR_WRITE_AFTER_END: 'the write() callable was used after the response was finished',
  TSGI_ERR_INPUT_BUSY: 'tsgi.input was read again before the previous read finished',
  TSGI_ERR_BRIDGE_UNSUPPORTED: 'an app run through the bridge used a part of the Node API the bridge does not provide (see the bridge section of the README)',
  TSGI_ERR_URI_TOO_LONG: 'the request line is longer than limitRequestLine',
  TSGI_ERR_HEADERS_TOO_LARGE: 'the request has more header fields than limitRequestFields, one longer than limitRequestFieldSize, or FastCGI params / an SCGI header block over limitParamsSize',
  TSGI_ERR_BODY_TOO_LARGE: 'the request body is larger than maxBodySize',
  TSGI_ERR_CLIENT_GONE: 'the client left before the response was done (the reason of an aborted tsgi.client_gone)',
} as const;

/** A stable error code. */
export type TsgiErrorCode = keyof typeof ERROR_CODES;

/**
 * The HTTP status a front answers with when an error of this code ends a request, chosen once here (as
 * Fastify's `createError(code, message, statusCode)`), not at each throw site. A throw site overrides it only
 * where the same code means another status (an idle body is TSGI_ERR_TIMEOUT with 408, a slow app 504; a
 * path outside the mount is TSGI_ERR_BAD_REQUEST with 404).
 */
export const ERROR_STATUS: { readonly [C in TsgiErrorCode]: number } = {
  TSGI_ERR_BAD_STATUS: 500,
  TSGI_ERR_BAD_HEADER: 500,
  TSGI_ERR_START_RESPONSE_TWICE: 500,
  TSGI_ERR_NO_START_RESPONSE: 500,
  TSGI_ERR_BAD_BODY: 500,
  TSGI_ERR_BAD_CHUNK: 500,
  TSGI_ERR_CONTENT_LENGTH_MISMATCH: 500,
  TSGI_ERR_SYNC_INPUT: 500,
  TSGI_ERR_INPUT_CLOSED: 400,
  TSGI_ERR_BAD_REQUEST: 400,
  TSGI_ERR_LINT: 500,
  TSGI_ERR_CONFIG: 500,
  TSGI_ERR_APP_LOAD: 500,
  TSGI_ERR_NOT_YET: 500,
  TSGI_ERR_PROTOCOL: 400,
  TSGI_ERR_OVERLOAD: 503,
  TSGI_ERR_TIMEOUT: 504,
  TSGI_ERR_WRITE_AFTER_END: 500,
  TSGI_ERR_INPUT_BUSY: 500,
  TSGI_ERR_BRIDGE_UNSUPPORTED: 500,
  TSGI_ERR_URI_TOO_LONG: 414,
  TSGI_ERR_HEADERS_TOO_LARGE: 431,
  TSGI_ERR_BODY_TOO_LARGE: 413,
  // nginx's 499 "client closed request": what an access log shows for a request whose client left.
  TSGI_ERR_CLIENT_GONE: 499,
};

/** A code's message template: what went wrong, then the fix. `{name}` placeholders are filled by the throw site. */
export interface ErrorTemplate {
  readonly message: string;
  readonly fix: string;
}

/**
 * The message of each code (as Fastify's `createError(code, message, statusCode)`): throw sites build
 * their errors with `tsgiError(code, values)`, so one code always reads the same way and always ends with
 * what to do. `{name}` placeholders take the site's details (a header name, the file and line of a bad
 * setting); a site with nothing to add fills none. The README's error-code table shows these templates.
 */
export const ERROR_TEMPLATES: { readonly [C in TsgiErrorCode]: ErrorTemplate } = {
  TSGI_ERR_BAD_STATUS: { message: 'status {status} is not "NNN Reason" with NNN in 200-599 and no CR/LF/NUL', fix: 'pass a string such as "200 OK" to startResponse' },
  TSGI_ERR_BAD_HEADER: { message: '{problem}', fix: 'pass headers as [name, value] pairs of strings: a token name, a value without CR, LF or NUL' },
  TSGI_ERR_START_RESPONSE_TWICE: { message: 'startResponse was already called', fix: 'call it again only with excInfo (the caught error) as the third argument, to replace a response whose headers are not sent yet' },
  TSGI_ERR_NO_START_RESPONSE: { message: '{what} before startResponse was called', fix: 'call startResponse(status, headers) before returning a body or calling write()' },
  TSGI_ERR_BAD_BODY: { message: '{problem}', fix: 'return an iterable or async iterable of chunks (e.g. [text]), or a promise of one' },
  TSGI_ERR_BAD_CHUNK: { message: '{where}a body chunk is {got}', fix: 'yield strings or Uint8Arrays (under the encode tool, strings of characters its encoding can represent)' },
  TSGI_ERR_CONTENT_LENGTH_MISMATCH: { message: 'the body {problem} the Content-Length {length} the app declared', fix: 'send exactly Content-Length bytes, or leave the header out and let the front frame the body' },
  TSGI_ERR_SYNC_INPUT: { message: '{problem}', fix: 'await tsgi.input.read() (or use readSync only in threadPool/threading, where a thread can block)' },
  TSGI_ERR_INPUT_CLOSED: { message: '{problem}', fix: 'nothing to fix in the app when the client went away; catch the error if the app must clean up' },
  TSGI_ERR_BAD_REQUEST: { message: '{problem}', fix: 'the client (or the web server in front) sent a request tsgi cannot map to an environ: check its URL encoding, Host and framing, and the mount point' },
  TSGI_ERR_LINT: { message: '{rule}', fix: 'change the app or the server to follow app-api/SPEC.md at the section the rule names' },
  TSGI_ERR_CONFIG: { message: '{where}: {problem}', fix: '{fix}' },
  TSGI_ERR_APP_LOAD: { message: '{problem}', fix: '{fix}' },
  TSGI_ERR_NOT_YET: { message: '{feature} is not available in this version', fix: '{instead}' },
  TSGI_ERR_PROTOCOL: { message: '{protocol}: {problem}', fix: 'the peer sent malformed bytes; that connection was closed and the server goes on: check what the web server in front sends' },
  TSGI_ERR_OVERLOAD: { message: '{problem}', fix: 'retry later (Retry-After says when); when it happens often, raise {limit} or shed load in front' },
  TSGI_ERR_TIMEOUT: { message: '{problem}', fix: 'raise {limit} if the request needs longer; otherwise find what stalled (the app, or a client that stopped sending)' },
  TSGI_ERR_WRITE_AFTER_END: { message: 'write() was called after the response was finished', fix: 'stop writing once the body iterable has ended, or return the rest as the body' },
  TSGI_ERR_INPUT_BUSY: { message: 'tsgi.input was read again before the previous read finished', fix: 'await each read before the next' },
  TSGI_ERR_BRIDGE_UNSUPPORTED: { message: "{what} is not available to an app run through tsgi's Node bridge", fix: '{instead}' },
  TSGI_ERR_URI_TOO_LONG: { message: '{problem}', fix: 'shorten the URL (move data into a POST body), or raise limitRequestLine' },
  TSGI_ERR_HEADERS_TOO_LARGE: { message: '{problem}', fix: 'send fewer or shorter header fields (large cookies are the usual cause), or raise limitRequestFields / limitRequestFieldSize / limitParamsSize' },
  TSGI_ERR_BODY_TOO_LARGE: { message: '{problem}', fix: 'send a smaller body, or raise maxBodySize for this server' },
  TSGI_ERR_CLIENT_GONE: { message: '{problem}', fix: 'nothing to fix: stop the work for this request when tsgi.client_gone aborts (its reason is this error)' },
};

/** Fill `{name}` placeholders; a name without a value stays as written, so a missing detail shows instead of vanishing. */
function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) => (values[name] === undefined ? whole : String(values[name])));
}

/** The message of `code` with `values` in its placeholders: "what went wrong; the fix". */
export function errorMessage(code: TsgiErrorCode, values: Readonly<Record<string, string | number>> = {}): string {
  const t = ERROR_TEMPLATES[code];
  return `${fill(t.message, values)}; ${fill(t.fix, values)}`;
}

/** An error raised by tsgi itself. `code` is stable; `message` says what to do about it. */
export class TsgiError extends Error {
  readonly code: TsgiErrorCode;
  /** The HTTP status a front should answer with when this error ends a request: ERROR_STATUS's unless overridden. */
  readonly status: number;
  constructor(code: TsgiErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TsgiError';
    this.code = code;
    this.status = options?.status ?? ERROR_STATUS[code];
  }
}

/** True when `err` is a TsgiError with the given code (or any code when none is given). */
export function isTsgiError(err: unknown, code?: TsgiErrorCode): err is TsgiError {
  return err instanceof TsgiError && (code === undefined || err.code === code);
}

/** A TsgiError whose message is its code's template (ERROR_TEMPLATES) filled with `values`. */
export function tsgiError(code: TsgiErrorCode, values: Readonly<Record<string, string | number>> = {}, options?: { cause?: unknown; status?: number }): TsgiError {
  return new TsgiError(code, errorMessage(code, values), options);
}
