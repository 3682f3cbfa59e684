/**
 * `lint(app)`: run-time checks of app-api/SPEC.md on both sides of an app, as Plack::Middleware::Lint and
 * wsgiref.validate. Toward the server it checks the environ, the `startResponse`/`write` it provides, the
 * input stream and how it consumes the body (close() exactly once, no next() after the end, no overlapping
 * next()). Toward the app it checks the startResponse arguments, write(), the return value, every chunk,
 * Content-Length against the body, excInfo handling and the use of tsgi.input / tsgi.errors.
 *
 * A violation throws `LintError` (TsgiError code TSGI_ERR_LINT) to whoever broke the rule, with the rule id
 * and the SPEC.md section in the message. A well-behaved app's response is unchanged by the lint: array
 * bodies stay arrays (so the gateway still computes Content-Length), chunks pass through as they are.
 */
import { checkHeader, HOP_BY_HOP, parseStatus } from './headers.js';
import { FILE_KEY, fileRangeOf } from './file-body.js';
import { checkEnviron } from './lint-environ.js';
import { lintErrors, lintInput, type InputLintContext } from './lint-input.js';
import { LintError, type LintRuleId } from './lint-rules.js';
import type { App, Body, Chunk, Environ, ErrorStream, HeaderList, StartResponse, Write } from './types.js';

export { LintError, LINT_RULES, type LintRule, type LintRuleId, type LintSide } from './lint-rules.js';

/** Options of `lint()`. */
export interface LintOptions {
  /**
   * Called with every violation the lint finds, before it is thrown. Violations that no call can be
   * thrown at (a server that never calls the body's close()) are only reported here; without this option
   * they are written to the request's tsgi.errors.
   */
  onViolation?: (err: LintError) => void;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as PromiseLike<unknown>).then === 'function';
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'string') return `a string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + '...' : x)}`;
  if (x instanceof Uint8Array) return 'a bare Uint8Array';
  if (Array.isArray(x)) return 'an array';
  return typeof x;
}

const STATUS = /^(\d{3}) [\t\x20-\x7e\x80-\xff]+$/;

/** Check startResponse's status argument; returns the code. */
function checkStatus(raise: LintState['raise'], status: unknown): number {
  if (typeof status !== 'string') raise('response.status', `status must be a string like "200 OK", got ${describe(status)}`);
  let code: number;
  try {
    code = parseStatus(status).code;
  } catch {
    raise('response.status', `status ${JSON.stringify(status)} is not "NNN Reason" (three digits, a space, a reason phrase without CR/LF/NUL)`);
  }
  if (!STATUS.test(status)) raise('response.status', `status ${JSON.stringify(status)} needs a reason phrase after the code, e.g. "${code} OK"`);
  if (code < 200) raise('response.status', `status ${code}: interim 1xx responses belong to the server; send a final status 200-599`);
  return code;
}

/** Check startResponse's headers; returns the declared Content-Length or -1. */
function checkHeaders(raise: LintState['raise'], headers: unknown): number {
  if (!Array.isArray(headers)) raise('response.headers', `headers must be an array of [name, value] pairs, got ${describe(headers)}`);
  let length = -1;
  for (let i = 0; i < headers.length; i++) {
    const h: unknown = headers[i];
    if (!Array.isArray(h) || h.length !== 2 || typeof h[0] !== 'string' || typeof h[1] !== 'string') {
      raise('response.headers', `header #${i} must be a [name, value] pair of two strings, got ${JSON.stringify(h)}`);
    }
    const [name, value] = h as [string, string];
    if (name.toLowerCase() === 'status') raise('response.status-header', 'a Status header: pass the status as the first argument of startResponse instead');
    // The gateway's own validation decides (one definition of a valid header); the lint only names the rule.
    try {
      checkHeader([name, ''], i);
    } catch {
      raise('response.header-name', `header #${i} has an invalid name ${JSON.stringify(name)}: names are HTTP tokens (no spaces, colons or control characters)`);
    }
    try {
      checkHeader(h, i);
    } catch {
      const what = /[\r\n]/.test(value) ? 'a CR/LF' : value.includes('\0') ? 'a NUL' : /[^\x00-\xff]/.test(value) ? 'a character above U+00FF' : 'a control character';
      raise('response.header-value', `header ${name} has ${what} in its value ${JSON.stringify(value.slice(0, 80))}: a header value is one line of Latin-1 text (encode it, e.g. RFC 8187)`);
    }
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) raise('response.hop-by-hop', `header ${name} is hop-by-hop: the connection and its framing belong to the server; leave it out`);
    if (lower === 'content-length') {
      if (!/^\d+$/.test(value)) raise('response.content-length', `Content-Length ${JSON.stringify(value)} is not decimal digits`);
      const n = Number(value);
      if (length >= 0 && n !== length) raise('response.content-length', `two different Content-Length headers (${length} and ${n})`);
      length = n;
    }
  }
  return length;
}

function byteLength(chunk: Chunk): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : chunk.byteLength;
}

/** The state of one request seen through the lint. */
class LintState implements InputLintContext {
  started = false;
  /** A non-empty chunk reached the server: it has sent (or is sending) the headers. */
  headersSent = false;
  ended = false;
  private excRethrown = false;
  private code = 0;
  private declaredLength = -1;
  private bytes = 0;
  private closeCalls = 0;
  private closeCheckScheduled = false;
  private readonly method: string;

  constructor(
    private readonly errors: ErrorStream,
    method: string,
    private readonly opts: LintOptions,
  ) {
    this.method = method;
  }

  readonly raise = (rule: LintRuleId, detail: string): never => {
    const err = new LintError(rule, detail);
    this.opts.onViolation?.(err);
    throw err;
  };

  /** A violation nobody can be thrown at: report it. */
  private note(rule: LintRuleId, detail: string): void {
    const err = new LintError(rule, detail);
    if (this.opts.onViolation !== undefined) this.opts.onViolation(err);
    else {
      try {
        this.errors.write(err.message + '\n');
      } catch {
        /* nowhere left to say it */
      }
    }
  }

  /** Content-Length must match the body, except where the body is never sent. */
  private get lengthApplies(): boolean {
    return this.declaredLength >= 0 && this.method !== 'HEAD' && this.code !== 204 && this.code !== 304;
  }

  wrapStartResponse(inner: StartResponse): StartResponse {
    return (status, headers, excInfo) => {
      const hasExc = excInfo !== undefined && excInfo !== null;
      if (this.started && !hasExc) {
        this.raise('response.start-twice', 'startResponse was already called; call it again only with excInfo (the error you caught) to replace the response');
      }
      const code = checkStatus(this.raise, status);
      const length = checkHeaders(this.raise, headers);
      let write: unknown;
      try {
        write = inner(status, headers as HeaderList, excInfo);
      } catch (err) {
        if (hasExc) this.excRethrown = true;
        throw err;
      }
      if (hasExc && this.headersSent) {
        this.raise('server.exc-info-rethrow', 'startResponse was called with excInfo after headers were sent and returned: it must throw excInfo');
      }
      if (typeof write !== 'function') this.raise('server.write-callable', `startResponse returned ${describe(write)} instead of the write callable`);
      this.started = true;
      this.code = code;
      this.declaredLength = length;
      return this.wrapWrite(write as Write);
    };
  }

  private wrapWrite(inner: Write): Write {
    return (chunk) => {
      if (this.ended) this.raise('response.write-after-end', 'write() after the response ended (the server already closed the body)');
      this.checkChunk(chunk, 'write()');
      this.onChunk(chunk);
      return inner(chunk);
    };
  }

  private checkChunk(chunk: unknown, where: string): asserts chunk is Chunk {
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
      this.raise('body.chunk-type', `${where} got ${describe(chunk)}: chunks must be strings or Uint8Arrays`);
    }
  }

  /** A chunk is on its way to the server. */
  private onChunk(chunk: Chunk): void {
    const n = byteLength(chunk);
    if (n === 0) return;
    if (!this.started) this.raise('response.start-before-body', 'the body produced a chunk before startResponse was called');
    if (this.excRethrown) this.raise('response.exc-info', 'more body after startResponse re-threw excInfo: let that error propagate');
    this.headersSent = true;
    this.bytes += n;
    if (this.lengthApplies && this.bytes > this.declaredLength) {
      this.raise('response.content-length', `the body is longer than its Content-Length ${this.declaredLength} (${this.bytes} bytes so far)`);
    }
  }

  /** The app's body is complete. */
  private onBodyEnd(): void {
    if (!this.started) this.raise('response.start-before-body', 'the body ended without startResponse having been called');
    if (this.lengthApplies && this.bytes !== this.declaredLength) {
      this.raise('response.content-length', `the body is ${this.bytes} bytes but its Content-Length says ${this.declaredLength}`);
    }
  }

  /** The server stopped iterating: it must close() before the event loop turns. */
  private scheduleCloseCheck(): void {
    if (this.closeCheckScheduled) return;
    this.closeCheckScheduled = true;
    setImmediate(() => {
      if (this.closeCalls === 0) this.note('body.close-once', 'the server finished with the body but did not call its close()');
    });
  }

  private makeClose(inner: Body): () => void | Promise<void> {
    return () => {
      this.closeCalls++;
      if (this.closeCalls > 1) this.raise('body.close-once', `the server called the body's close() ${this.closeCalls} times; call it exactly once`);
      this.ended = true;
      if (typeof inner.close === 'function') return inner.close();
    };
  }

  /** Check what the app returned and wrap it so the server's use of it is checked too. */
  wrapBody(body: unknown): Body {
    if (body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
      this.raise('body.type', `the app returned ${describe(body)}: return an iterable of chunks, e.g. [text]`);
    }
    if (Array.isArray(body)) {
      if (!this.started) this.raise('response.start-before-body', 'the app returned an array body without calling startResponse first');
      for (let i = 0; i < body.length; i++) {
        this.checkChunk(body[i], `body chunk #${i}`);
        this.onChunk(body[i]);
      }
      this.onBodyEnd();
      // Still an array, so the gateway keeps its Content-Length fast path; iterating it is still checked.
      const copy = body.slice() as Chunk[] & { close: () => void | Promise<void> };
      copy.close = this.makeClose(body as Body);
      const chunks = body as Chunk[];
      Object.defineProperty(copy, Symbol.iterator, { value: () => this.wrapIterator(chunks.values(), false), enumerable: false });
      return copy;
    }
    const obj = body as Record<symbol, unknown>;
    if (typeof obj[Symbol.iterator] === 'function') {
      const src = body as Iterable<Chunk> & Body;
      return { [Symbol.iterator]: () => this.wrapIterator(src[Symbol.iterator](), true), close: this.makeClose(src) };
    }
    if (typeof obj[Symbol.asyncIterator] === 'function') {
      const src = body as AsyncIterable<Chunk> & Body;
      const wrapped: Body & { [FILE_KEY]?: unknown } = { [Symbol.asyncIterator]: () => this.wrapAsyncIterator(src[Symbol.asyncIterator]()), close: this.makeClose(src) };
      // Keep a file body's range visible, so a linted app still gets the front's file path (zero-copy).
      const file = fileRangeOf(src);
      if (file !== undefined) wrapped[FILE_KEY] = file;
      return wrapped;
    }
    return this.raise('body.type', `the app returned ${describe(body)} that is neither iterable nor async iterable`);
  }

  private checkNotFinished(done: boolean): void {
    if (this.ended) this.raise('body.after-close', 'the server asked the body for a chunk after it called close()');
    if (done) this.raise('body.after-close', 'the server asked the body for a chunk after it reported done');
  }

  private wrapIterator(it: Iterator<unknown>, check: boolean): Iterator<Chunk> {
    let done = false;
    return {
      next: (): IteratorResult<Chunk> => {
        this.checkNotFinished(done);
        const r = it.next();
        if (r.done === true) {
          done = true;
          this.scheduleCloseCheck();
          if (check) this.onBodyEnd();
          return { done: true, value: undefined };
        }
        if (check) {
          this.checkChunk(r.value, 'a body chunk');
          this.onChunk(r.value);
        }
        return r as IteratorResult<Chunk>;
      },
      return: (value?: unknown): IteratorResult<Chunk> => {
        done = true;
        this.scheduleCloseCheck();
        it.return?.(value);
        return { done: true, value: undefined };
      },
    };
  }

  private wrapAsyncIterator(it: AsyncIterator<unknown>): AsyncIterator<Chunk> {
    let done = false;
    let pending = false;
    return {
      next: async (): Promise<IteratorResult<Chunk>> => {
        this.checkNotFinished(done);
        if (pending) this.raise('body.concurrent-next', 'the server called next() on the body while the previous next() was pending; await each one');
        pending = true;
        let r: IteratorResult<unknown>;
        try {
          r = await it.next();
        } finally {
          pending = false;
        }
        if (r.done === true) {
          done = true;
          this.scheduleCloseCheck();
          this.onBodyEnd();
          return { done: true, value: undefined };
        }
        this.checkChunk(r.value, 'a body chunk');
        this.onChunk(r.value);
        return r as IteratorResult<Chunk>;
      },
      return: async (value?: unknown): Promise<IteratorResult<Chunk>> => {
        done = true;
        this.scheduleCloseCheck();
        await it.return?.(value);
        return { done: true, value: undefined };
      },
    };
  }
}

/**
 * Wrap `app` in run-time checks of app-api/SPEC.md. Use it in development and tests:
 *
 *     serve(lint(app))            // checks the server and the app
 *     lint(middleware(lint(app))) // checks the middleware on both of its sides too
 *
 * Violations throw `LintError` (code TSGI_ERR_LINT); its message names the rule id, the side that broke
 * it (`server` or `app`) and the SPEC.md section.
 */
export function lint(app: App, opts: LintOptions = {}): App {
  if (typeof app !== 'function') {
    const err = new LintError('app.signature', `lint() needs an app function (environ, startResponse) => body, got ${describe(app)}`);
    opts.onViolation?.(err);
    throw err;
  }
  return function lintedApp(environ: Environ, startResponse: StartResponse): Body | Promise<Body> {
    try {
      checkEnviron(environ);
    } catch (err) {
      if (err instanceof LintError) opts.onViolation?.(err);
      throw err;
    }
    if (typeof startResponse !== 'function') {
      const err = new LintError('server.call', `the app was called with ${describe(startResponse)} as startResponse; call app(environ, startResponse)`);
      opts.onViolation?.(err);
      throw err;
    }
    const state = new LintState(environ['tsgi.errors'], environ.REQUEST_METHOD, opts);
    environ['tsgi.input'] = lintInput(environ['tsgi.input'], state);
    environ['tsgi.errors'] = lintErrors(environ['tsgi.errors'], state);
    const result: unknown = app(environ, state.wrapStartResponse(startResponse));
    if (isThenable(result)) return Promise.resolve(result).then((body) => state.wrapBody(body));
    return state.wrapBody(result);
  };
}
