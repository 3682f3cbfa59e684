/**
 * The gateway core: run an app against an environ and send what it returns through a ResponseSink.
 * One copy for every front. It owns the PEP 3333 rules: headers go out with the first non-empty chunk (or
 * at the end), startResponse may be called again only with excInfo, `close()` is called exactly once, an
 * error before headers becomes a 500 logged to tsgi.errors, an error after headers aborts the connection.
 *
 * Hot path: an app that returns an array (the common `[body]`) is served synchronously, with
 * Content-Length computed and headers and body handed to the sink in one `end()` call.
 */
import { TsgiError, tsgiError } from '../../app-api/errors.js';
import { fileRangeOf, type FileRange } from '../../app-api/file-body.js';
import type { App, Body, Chunk, Environ, HeaderList, StartResponse, Write } from '../../app-api/types.js';
import { checkHeaders, HOP_BY_HOP, parseStatus } from '../../app-api/headers.js';
import { requestErrorStatus } from './limits.js';
import type { ErrorLog } from './log.js';
import type { ResponseSink } from './sink.js';

const EMPTY = Buffer.alloc(0);
/** Indexed by name length: true for the lengths of content-length and the HOP_BY_HOP names. */
const FRAMING_NAME_LENGTHS: readonly boolean[] = (() => {
  const lengths: boolean[] = new Array(32).fill(false);
  for (const name of ['content-length', ...HOP_BY_HOP]) lengths[name.length] = true;
  return lengths;
})();
const ERROR_BODY = Buffer.from('Internal Server Error\n');

function toBuffer(chunk: Chunk): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw tsgiError('TSGI_ERR_BAD_CHUNK', { where: '', got: chunk === null ? 'null' : typeof chunk });
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as PromiseLike<unknown>).then === 'function';
}

/** Options for one request. */
export interface ServeOptions {
  /** Where gateway errors are logged (besides the app's own tsgi.errors writes). */
  log: ErrorLog;
}

/** Per-request state: the PEP 3333 state machine of one response. */
class Response {
  private status: { code: number; reason: string } | null = null;
  private headers: HeaderList | null = null;
  private headersSent = false;
  private declaredLength = -1;
  private written = 0;
  private noBody: boolean;
  private finished = false;
  private closed = false;
  private body: Body | null = null;

  constructor(
    private readonly env: Environ,
    private readonly sink: ResponseSink,
    private readonly log: ErrorLog,
  ) {
    this.noBody = env.REQUEST_METHOD === 'HEAD';
  }

  readonly startResponse: StartResponse = (status, headers, excInfo) => {
    if (excInfo !== undefined && excInfo !== null) {
      // PEP 3333: too late to change the response once headers are out, so re-throw the app's error.
      if (this.headersSent) throw excInfo;
    } else if (this.status !== null) {
      throw tsgiError('TSGI_ERR_START_RESPONSE_TWICE');
    }
    const parsed = parseStatus(status);
    checkHeaders(headers);
    this.status = parsed;
    this.headers = headers;
    return this.write;
  };

  /** The PEP 3333 `write` callable: sends headers if needed, then the chunk, now. */
  readonly write: Write = (chunk) => {
    if (this.status === null) throw tsgiError('TSGI_ERR_NO_START_RESPONSE', { what: 'write() was called' });
    if (this.finished) throw tsgiError('TSGI_ERR_WRITE_AFTER_END');
    const buf = toBuffer(chunk);
    if (buf.length === 0) return;
    if (!this.headersSent) this.sendHeaders(-1);
    return this.writeBody(buf);
  };

  /** Apply framing rules and hand status + headers to the sink. `knownLength` < 0: unknown. */
  private sendHeaders(knownLength: number): void {
    if (this.status === null || this.headers === null) {
      throw tsgiError('TSGI_ERR_NO_START_RESPONSE', { what: 'the app returned a body' });
    }
    const code = this.status.code;
    const bodyForbidden = code < 200 || code === 204 || code === 304;
    if (bodyForbidden) this.noBody = true;
    const headers = this.headers;
    // Sized once (room for a Content-Length), trimmed at the end: pushing into `[]` makes V8 give the array
    // room for 17 entries, the largest allocation of a small response's head (V8's heap sampling).
    const out: HeaderList = new Array(headers.length + 1);
    let n = 0;
    let hasLength = false;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i];
      // Only names as long as Content-Length or a hop-by-hop header are lower-cased and looked at: the
      // others (most) go out as they are.
      if (!FRAMING_NAME_LENGTHS[h[0].length]) {
        out[n++] = h;
        continue;
      }
      const lower = h[0].toLowerCase();
      if (lower === 'content-length') {
        if (code < 200 || code === 204) continue; // RFC 9110 8.6: never on 1xx/204
        const length = /^\d{1,15}$/.test(h[1].trim()) ? Number(h[1].trim()) : NaN;
        if (Number.isNaN(length)) throw tsgiError('TSGI_ERR_BAD_HEADER', { problem: `Content-Length ${JSON.stringify(h[1])} is not a number` });
        if (hasLength) {
          if (length !== this.declaredLength) throw tsgiError('TSGI_ERR_BAD_HEADER', { problem: 'two different Content-Length headers' });
          continue;
        }
        hasLength = true;
        this.declaredLength = length;
        out[n++] = h;
      } else if (HOP_BY_HOP.has(lower)) {
        continue; // the connection and its framing are the gateway's
      } else out[n++] = h;
    }
    if (!hasLength && knownLength >= 0 && !bodyForbidden) {
      this.declaredLength = knownLength;
      out[n++] = ['Content-Length', String(knownLength)];
    }
    if (n !== out.length) out.length = n; // a header dropped (or no Content-Length added): trim the room
    if (hasLength && knownLength >= 0 && !this.noBody && knownLength !== this.declaredLength) {
      // The whole body is in hand and nothing is on the wire yet: a clean 500 beats an aborted connection.
      throw tsgiError('TSGI_ERR_CONTENT_LENGTH_MISMATCH', { problem: `is ${knownLength} bytes, not`, length: this.declaredLength });
    }
    this.headersSent = true;
    this.sink.start(code, this.status.reason, out);
  }

  private writeBody(buf: Buffer): void | Promise<void> {
    if (this.noBody || this.sink.closed) return;
    this.written += buf.length;
    if (this.declaredLength >= 0 && this.written > this.declaredLength) {
      throw tsgiError('TSGI_ERR_CONTENT_LENGTH_MISMATCH', { problem: 'is longer than', length: this.declaredLength });
    }
    return this.sink.write(buf);
  }

  /** Serve what the app returned. */
  run(body: unknown): void | Promise<void> {
    try {
      if (body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
        throw tsgiError('TSGI_ERR_BAD_BODY', { problem: `the app returned ${body === null ? 'null' : body instanceof Uint8Array ? 'a bare Uint8Array' : typeof body} as its body` });
      }
      this.body = body as Body;
      const file = this.sink.sendFile === undefined || this.headersSent ? undefined : fileRangeOf(body);
      if (file !== undefined) return this.runFile(file);
      if (Array.isArray(body)) return this.runArray(body as Chunk[]);
      if (typeof (body as Iterable<Chunk>)[Symbol.iterator] === 'function') return this.runIterator((body as Iterable<Chunk>)[Symbol.iterator]());
      if (typeof (body as AsyncIterable<Chunk>)[Symbol.asyncIterator] === 'function') return this.runAsync((body as AsyncIterable<Chunk>)[Symbol.asyncIterator]());
      throw tsgiError('TSGI_ERR_BAD_BODY', { problem: 'the app returned an object that is neither iterable nor async iterable as its body' });
    } catch (err) {
      this.fail(err);
    }
  }

  /** Whole body in hand: Content-Length known, one sink call. */
  private runArray(chunks: Chunk[]): void {
    if (chunks.length === 1 && typeof chunks[0] === 'string' && this.sink.endText !== undefined && !this.headersSent) return this.runText(chunks[0]);
    let last: Buffer = EMPTY;
    if (chunks.length === 1) last = toBuffer(chunks[0]);
    else if (chunks.length > 1) {
      const bufs = chunks.map(toBuffer);
      last = Buffer.concat(bufs);
    }
    if (!this.headersSent) this.sendHeaders(this.written + last.length);
    if (last.length > 0 && !this.noBody) {
      this.written += last.length;
      if (this.declaredLength >= 0 && this.written > this.declaredLength) {
        throw tsgiError('TSGI_ERR_CONTENT_LENGTH_MISMATCH', { problem: 'is longer than', length: this.declaredLength });
      }
    }
    this.finish(this.noBody ? undefined : last);
  }

  /** The whole body is one string and the sink takes text: its length is counted, not encoded. */
  private runText(text: string): void {
    const length = Buffer.byteLength(text, 'utf8');
    this.sendHeaders(length); // throws on a Content-Length the text does not match, before anything is sent
    if (this.noBody || length === 0) return this.finish(undefined);
    this.written = length;
    this.finished = true;
    if (!this.sink.closed) this.sink.endText!(text);
    this.close();
  }

  /** A file body on a sink that can send files itself: Content-Length from the range, bytes by the sink. */
  private runFile(file: FileRange): void | Promise<void> {
    const length = file.end - file.start + 1;
    this.sendHeaders(this.written + length);
    if (this.noBody || length === 0) return this.finish(undefined);
    this.finished = true;
    return this.sink.sendFile!(file).then(
      () => this.close(),
      (err) => {
        if (!this.sink.closed) {
          this.logError(`file body ${file.path} failed`, err);
          this.sink.abort(err instanceof Error ? err : new Error(String(err)));
        }
        this.close();
      },
    );
  }

  private runIterator(it: Iterator<Chunk>): void | Promise<void> {
    try {
      for (;;) {
        if (this.sink.closed) return this.stopEarly(it);
        const r = it.next();
        if (r.done) break;
        const buf = toBuffer(r.value);
        if (buf.length === 0) continue;
        if (!this.headersSent) this.sendHeaders(-1);
        const wait = this.writeBody(buf);
        if (wait !== undefined) return wait.then(() => this.runIterator(it), (err) => this.failIn(it, err));
      }
      this.finish(undefined);
    } catch (err) {
      return this.failIn(it, err);
    }
  }

  private async runAsync(it: AsyncIterator<Chunk>): Promise<void> {
    try {
      for (;;) {
        if (this.sink.closed) return this.stopEarly(it);
        const r = await it.next();
        if (r.done) break;
        const buf = toBuffer(r.value);
        if (buf.length === 0) continue;
        if (!this.headersSent) this.sendHeaders(-1);
        const wait = this.writeBody(buf);
        if (wait !== undefined) await wait;
      }
      this.finish(undefined);
    } catch (err) {
      return this.failIn(it, err);
    }
  }

  private stopEarly(it: Iterator<Chunk> | AsyncIterator<Chunk>): void | Promise<void> {
    this.finished = true;
    const r = it.return?.();
    if (isThenable(r)) return Promise.resolve(r).then(() => this.close(), (err) => { this.logError('body iterator failed while stopping', err); this.close(); });
    this.close();
  }

  private failIn(it: Iterator<Chunk> | AsyncIterator<Chunk>, err: unknown): void {
    try {
      const r = it.return?.();
      if (isThenable(r)) Promise.resolve(r).catch(() => {});
    } catch {
      /* the original error is the one worth reporting */
    }
    this.fail(err);
  }

  private finish(last: Buffer | undefined): void {
    if (this.finished) return;
    if (!this.headersSent) this.sendHeaders(this.written);
    if (!this.noBody && this.declaredLength >= 0 && this.written < this.declaredLength && !this.sink.closed) {
      throw tsgiError('TSGI_ERR_CONTENT_LENGTH_MISMATCH', { problem: `ended after ${this.written} bytes, short of`, length: this.declaredLength });
    }
    this.finished = true;
    if (!this.sink.closed) this.sink.end(last);
    this.close();
  }

  /** An error anywhere: 500 if nothing went out yet, else abort. Always logged, always closes the body. */
  fail(err: unknown): void {
    this.logError(`error in app for ${this.env.REQUEST_METHOD} ${this.env.SCRIPT_NAME}${this.env.PATH_INFO}`, err);
    if (!this.finished) {
      this.finished = true;
      if (this.sink.closed) {
        /* nobody to tell */
      } else if (!this.headersSent) {
        this.headersSent = true;
        // A request body tsgi.input refused (over maxBodySize, stalled past bodyTimeout) is the client's fault.
        const status = requestErrorStatus(err);
        const reason = status === undefined ? 'Internal Server Error' : status === 413 ? 'Content Too Large' : 'Request Timeout';
        const text = status === undefined ? ERROR_BODY : Buffer.from(reason + '\n');
        this.sink.start(status ?? 500, reason, [
          ['Content-Type', 'text/plain; charset=utf-8'],
          ['Content-Length', String(text.length)],
        ]);
        this.sink.end(this.env.REQUEST_METHOD === 'HEAD' ? undefined : text);
      } else {
        this.sink.abort(err instanceof Error ? err : new Error(String(err)));
      }
    }
    this.close();
  }

  private logError(message: string, err: unknown): void {
    try {
      this.log.log('error', message, err);
    } catch {
      /* logging must never take the server down */
    }
  }

  /** Call the body's close() exactly once, whatever happened. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    const body = this.body;
    if (body === null || typeof body.close !== 'function') return;
    try {
      const r = body.close();
      if (isThenable(r)) Promise.resolve(r).catch((err) => this.logError('body close() failed', err));
    } catch (err) {
      this.logError('body close() failed', err);
    }
  }
}

/**
 * Run `app` for one request and send the response through `sink`. Returns a promise only when the
 * response could not be finished synchronously (async app, async body, or backpressure); it never rejects:
 * every failure is logged and turned into a 500 or an abort.
 */
export function serveApp(app: App, env: Environ, sink: ResponseSink, opts: ServeOptions): void | Promise<void> {
  const res = new Response(env, sink, opts.log);
  let body: unknown;
  try {
    body = app(env, res.startResponse);
  } catch (err) {
    res.fail(err);
    return;
  }
  if (isThenable(body)) {
    return Promise.resolve(body).then(
      (b) => res.run(b),
      (err) => res.fail(err),
    );
  }
  return res.run(body);
}
