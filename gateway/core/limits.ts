/**
 * Request limits, written once for every front (HTTP/1.1, HTTP/2, FastCGI, SCGI, CGI). Named and defaulted
 * as gunicorn's settings, so a gunicorn user finds the same knobs with the same numbers:
 *
 * - `limitRequestLine` (4094): the request line, `METHOD target HTTP/x.y` without CRLF; longer is 414.
 * - `limitRequestFields` (100): header fields; one more is 431.
 * - `limitRequestFieldSize` (8190): one header line, `name: value` plus CRLF, as gunicorn counts it; longer
 *   is 431.
 * - `maxBodySize` (0 = no limit): request body bytes; a declared Content-Length over it is refused 413 before
 *   the app runs, and a body without one (chunked, HTTP/2, FastCGI STDIN) fails the app's read at the limit,
 *   which the core answers 413 (see `requestErrorStatus`).
 *
 * 0 turns a limit off, as in gunicorn. The HTTP front checks the fields Node's parser saw (each line);
 * FastCGI, SCGI and CGI check the CGI variables the web server passed, where a repeated header arrives as one
 * variable whose value is already joined: the limit then applies to the joined value.
 */
import { tsgiError, TsgiError, type TsgiErrorCode } from '../../app-api/errors.js';
import type { CgiVars } from '../../app-api/types.js';

/** The limits of one listener. */
export interface RequestLimits {
  /** Bytes of the request line; 0 = no limit. */
  limitRequestLine: number;
  /** Header fields; 0 = no limit. */
  limitRequestFields: number;
  /** Bytes of one header line (name, `: `, value, CRLF); 0 = no limit. */
  limitRequestFieldSize: number;
  /** Request body bytes; 0 = no limit. */
  maxBodySize: number;
}

/** gunicorn's defaults; no body limit (gunicorn has none, and tsgi streams the body to the app, never buffers it). */
export const DEFAULT_LIMITS: Readonly<RequestLimits> = Object.freeze({
  limitRequestLine: 4094,
  limitRequestFields: 100,
  limitRequestFieldSize: 8190,
  maxBodySize: 0,
});

/** The limits with defaults filled in. */
export function requestLimits(partial?: Partial<RequestLimits>): RequestLimits {
  return { ...DEFAULT_LIMITS, ...partial };
}

/** `: ` and CRLF around a header line's name and value, as gunicorn counts the line. */
const LINE_OVERHEAD = 4;

function lineTooLong(limits: RequestLimits, length: number): void {
  if (limits.limitRequestLine > 0 && length > limits.limitRequestLine) {
    throw tsgiError('TSGI_ERR_URI_TOO_LONG', { problem: `the request line is ${length} bytes, over limitRequestLine ${limits.limitRequestLine}` });
  }
}

function tooManyFields(limits: RequestLimits, count: number): void {
  if (limits.limitRequestFields > 0 && count > limits.limitRequestFields) {
    throw tsgiError('TSGI_ERR_HEADERS_TOO_LARGE', { problem: `the request has ${count} header fields, over limitRequestFields ${limits.limitRequestFields}` });
  }
}

function fieldTooLarge(limits: RequestLimits, name: string, size: number): void {
  if (limits.limitRequestFieldSize > 0 && size > limits.limitRequestFieldSize) {
    throw tsgiError('TSGI_ERR_HEADERS_TOO_LARGE', { problem: `header field ${JSON.stringify(name.slice(0, 64))} is ${size} bytes, over limitRequestFieldSize ${limits.limitRequestFieldSize}` });
  }
}

/**
 * Check a head parsed by Node (HTTP/1.x, or HTTP/2 with its pseudo-headers, which are not fields): throws a
 * TsgiError with status 414 or 431.
 */
export function checkHttpHead(limits: RequestLimits, method: string, target: string, httpVersion: string, rawHeaders: readonly string[]): void {
  // `HTTP/` + version, and the two spaces.
  lineTooLong(limits, method.length + target.length + httpVersion.length + 7);
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.charCodeAt(0) === 58 /* : */) continue;
    count++;
    fieldTooLarge(limits, name, name.length + rawHeaders[i + 1].length + LINE_OVERHEAD);
  }
  tooManyFields(limits, count);
}

/**
 * Check the CGI variables a web server passed (FastCGI params, the SCGI header block, a CGI environment):
 * the request line is rebuilt from REQUEST_METHOD, REQUEST_URI (or SCRIPT_NAME + PATH_INFO + QUERY_STRING)
 * and SERVER_PROTOCOL; each HTTP_* variable is a field whose name is as long as the variable name less
 * `HTTP_`. CONTENT_LENGTH and CONTENT_TYPE are not counted: SCGI sends CONTENT_LENGTH with every request,
 * and nginx passes those headers as HTTP_CONTENT_* too. Throws a TsgiError with status 414 or 431.
 */
export function checkCgiHead(limits: RequestLimits, cgi: CgiVars): void {
  if (limits.limitRequestLine > 0) {
    let target = cgi.REQUEST_URI;
    if (target === undefined) {
      const q = cgi.QUERY_STRING ?? '';
      target = (cgi.SCRIPT_NAME ?? '') + (cgi.PATH_INFO ?? '') + (q === '' ? '' : '?' + q);
    }
    lineTooLong(limits, (cgi.REQUEST_METHOD ?? '').length + target.length + (cgi.SERVER_PROTOCOL ?? '').length + 2);
  }
  if (limits.limitRequestFields === 0 && limits.limitRequestFieldSize === 0) return;
  let count = 0;
  for (const name in cgi) {
    if (!name.startsWith('HTTP_')) continue;
    count++;
    fieldTooLarge(limits, name, name.length - 5 + cgi[name]!.length + LINE_OVERHEAD);
  }
  tooManyFields(limits, count);
}

/** A declared CONTENT_LENGTH over maxBodySize: a TsgiError with status 413, to answer before the app runs. */
export function checkDeclaredBody(limits: RequestLimits, contentLength: string | undefined): void {
  if (limits.maxBodySize > 0 && contentLength !== undefined && Number(contentLength) > limits.maxBodySize) {
    throw bodyTooLarge(limits.maxBodySize, `its Content-Length ${contentLength.slice(0, 20)}`);
  }
}

function bodyTooLarge(max: number, what: string): TsgiError {
  return tsgiError('TSGI_ERR_BODY_TOO_LARGE', { problem: `the request body (${what}) is over maxBodySize ${max} bytes` });
}

/** The TsgiError a front fails a stalled request body with: 408 (answered by the core when nothing went out). */
export function bodyTimedOut(ms: number, peer: string): TsgiError {
  // 408 Request Timeout, not the code's 504: here the client stalled, not the app.
  return tsgiError('TSGI_ERR_TIMEOUT', { problem: `no request body byte from ${peer} for ${ms} ms (bodyTimeout): the declared body never came`, limit: 'bodyTimeout' }, { status: 408 });
}

/** Errors a request body read raises that say what the client did wrong, with the status the core answers. */
const REQUEST_ERRORS: ReadonlySet<TsgiErrorCode> = new Set<TsgiErrorCode>(['TSGI_ERR_BODY_TOO_LARGE', 'TSGI_ERR_TIMEOUT']);

/**
 * The status the core answers when an app fails with `err` before its response started: 413 or 408 when the
 * error came from tsgi.input refusing the request body (the app let it through), else undefined (500).
 */
export function requestErrorStatus(err: unknown): number | undefined {
  if (!(err instanceof TsgiError) || !REQUEST_ERRORS.has(err.code)) return undefined;
  return err.status === 408 || err.status === 413 ? err.status : undefined;
}

type Pending = (err: Error) => void;

/**
 * A request body that counts its bytes against maxBodySize and can be failed from outside (a body timeout
 * seen by the connection manager): a pending read then rejects at once, so the app's error reaches the core,
 * which answers 408 or 413 if nothing went out. `onRefused` runs once when the body is refused (the HTTP
 * front closes the connection after the answer, rather than reading the rest of a body nobody wants).
 */
export class LimitedBody implements AsyncIterable<Buffer>, AsyncIterator<Buffer> {
  private iterator: AsyncIterator<Buffer | Uint8Array> | null = null;
  private failure: Error | null = null;
  private pending: Pending | null = null;
  /** Body bytes read so far. */
  received = 0;

  constructor(
    private readonly source: AsyncIterable<Buffer | Uint8Array>,
    private readonly maxBodySize: number,
    private readonly onRefused?: (err: TsgiError) => void,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }

  async next(): Promise<IteratorResult<Buffer>> {
    if (this.failure !== null) throw this.failure;
    this.iterator ??= this.source[Symbol.asyncIterator]();
    const read = this.iterator.next();
    const r = await new Promise<IteratorResult<Buffer | Uint8Array>>((resolve, reject) => {
      this.pending = reject;
      read.then(resolve, reject);
    });
    this.pending = null;
    if (this.failure !== null) throw this.failure;
    if (r.done) return r as IteratorResult<Buffer>;
    this.received += r.value.length;
    if (this.maxBodySize > 0 && this.received > this.maxBodySize) this.fail(bodyTooLarge(this.maxBodySize, `${this.received} bytes read so far`));
    if (this.failure !== null) throw this.failure;
    const v = r.value;
    return { done: false, value: Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength) };
  }

  async return(): Promise<IteratorResult<Buffer>> {
    const it = this.iterator;
    if (it?.return !== undefined) await it.return();
    return { done: true, value: undefined };
  }

  /** True once the body was refused (too large, timed out). */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** Refuse the body: the pending read and every later one reject with `err`. The first failure wins. */
  fail(err: TsgiError): void {
    if (this.failure !== null) return;
    this.failure = err;
    const pending = this.pending;
    this.pending = null;
    pending?.(err);
    this.onRefused?.(err);
  }
}

/** A blocking body reader (CGI stdin) that counts its bytes against maxBodySize: a read past it throws 413. */
export function limitSyncReader(read: (size: number) => Buffer, maxBodySize: number): (size: number) => Buffer {
  if (maxBodySize <= 0) return read;
  let received = 0;
  return (size) => {
    const chunk = read(size);
    received += chunk.length;
    if (received > maxBodySize) throw bodyTooLarge(maxBodySize, `${received} bytes read so far`);
    return chunk;
  };
}

/** The environment variables a CGI process takes its limits from (set by the web server's config, never by a client). */
export const LIMIT_ENV_VARS: Readonly<Record<keyof RequestLimits, string>> = {
  limitRequestLine: 'TSGI_LIMIT_REQUEST_LINE',
  limitRequestFields: 'TSGI_LIMIT_REQUEST_FIELDS',
  limitRequestFieldSize: 'TSGI_LIMIT_REQUEST_FIELD_SIZE',
  maxBodySize: 'TSGI_MAX_BODY_SIZE',
};

/** The limits a CGI process was given in its environment (decimal integers; anything else keeps the default). */
export function limitsFromEnv(env: NodeJS.ProcessEnv): Partial<RequestLimits> {
  const out: Partial<RequestLimits> = {};
  for (const key of Object.keys(LIMIT_ENV_VARS) as (keyof RequestLimits)[]) {
    const raw = env[LIMIT_ENV_VARS[key]];
    if (raw !== undefined && /^\d{1,15}$/.test(raw.trim())) out[key] = Number(raw.trim());
  }
  return out;
}
