/**
 * The FastCGI ResponseSink: a CGI-style head (`Status: 200 OK`, headers, blank line) and the body as
 * FCGI_STDOUT records, then the empty FCGI_STDOUT and FCGI_END_REQUEST {appStatus 0, FCGI_REQUEST_COMPLETE}.
 *
 * The head is held until the first body bytes or the end, so a small response (head + body + end of
 * stream + END_REQUEST) is one buffer and one socket write. Larger chunks are sent as record headers plus
 * views of the app's bytes (no copy), and the connection corks the socket for the rest of the tick so
 * small writes coalesce into one writev.
 */
import type { HeaderList } from '../../app-api/types.js';
import type { ResponseSink } from '../../gateway/core/sink.js';
import { sharedCgiResponseHead } from '../cgi/response-head.js';
import {
  END_REQUEST_LEN,
  FCGI_REQUEST_COMPLETE,
  FCGI_STDOUT,
  HEADER_LEN,
  MAX_CONTENT,
  writeEndRequest,
  writeHeader,
} from './records.js';

/** What the sink needs from its connection. */
export interface SinkHost {
  /**
   * Queue bytes on the socket; false means "over the high-water mark, wait for drained()". `whole`: the
   * buffer is a complete response (head, body, end records), so it need not wait to coalesce with more.
   */
  send(buf: Buffer, whole?: boolean): boolean;
  /** Resolves when the socket drained or closed. */
  drained(): Promise<void>;
  /** END_REQUEST for this request is on its way: the request id is free again. */
  requestEnded(requestId: number): void;
  /** Tear the connection down so the web server sees an incomplete response. */
  abortConnection(requestId: number, err: Error): void;
}

/** The per-request state the sink shares with the connection. */
export interface SinkState {
  readonly requestId: number;
  /** Set by the connection on FCGI_ABORT_REQUEST or when the connection closes. */
  closed: boolean;
}

const EMPTY = Buffer.alloc(0);

// Buffer#utf8Write is what write(text, offset, length, 'utf8') ends in, without the argument checks and the
// encoding lookup (a fetch app's text body is written this way). Fall back if a runtime lacks it.
const utf8Write = (Buffer.prototype as unknown as { utf8Write?: (this: Buffer, text: string, offset: number, length: number) => number }).utf8Write;

/** Chunks up to this size are copied next to their record header (one buffer); larger ones are sent as views. */
const COPY_LIMIT = 16 * 1024;

/** The ResponseSink of one FastCGI request. */
export class FastcgiSink implements ResponseSink {
  /** The encoded head (shared between requests: copied, never written into). */
  private head: Buffer | null = null;
  private done = false;

  constructor(private readonly host: SinkHost, private readonly state: SinkState) {}

  /** True after FCGI_ABORT_REQUEST, after the connection closed, or after the response ended. */
  get closed(): boolean {
    return this.state.closed;
  }

  start(code: number, reason: string, headers: HeaderList): void {
    this.head = sharedCgiResponseHead(code, reason, headers);
  }

  write(chunk: Buffer): void | Promise<void> {
    if (this.state.closed || this.done) return;
    if (!this.emit(chunk, false)) return this.host.drained();
  }

  end(last?: Buffer): void {
    this.finish(last ?? EMPTY);
  }

  /** A one-string body: encoded straight into the response's one buffer when it fits the fast path. */
  endText(text: string): void {
    const length = Buffer.byteLength(text, 'utf8');
    if (length > COPY_LIMIT) this.finish(Buffer.from(text, 'utf8'));
    else this.finish(text, length);
  }

  /** The last chunk, the end of stream and END_REQUEST; the request id is free after. */
  private finish(last: Buffer | string, length?: number): void {
    if (this.state.closed || this.done) return;
    this.done = true;
    this.emit(last, true, length);
    this.state.closed = true;
    this.host.requestEnded(this.state.requestId);
  }

  /**
   * An error after the head went out. FCGI_END_REQUEST alone would not do: a web server takes it as "the
   * response is complete", so under chunked framing (no Content-Length from the app) the client would get
   * a well-formed, truncated body. nginx since 1.19.1 flags a short Content-Length body after END_REQUEST,
   * but older nginx, Apache mod_proxy_fcgi and lighttpd do not. Closing the connection without END_REQUEST
   * is what every web server reads as "upstream prematurely closed": nginx then closes the client
   * connection without the final chunk. Web servers do not multiplex, so this costs no other request in
   * practice; when one does, the other requests on the connection are cut too (the price of being sure).
   */
  abort(err: Error): void {
    if (this.state.closed || this.done) return;
    this.done = true;
    this.state.closed = true;
    this.host.abortConnection(this.state.requestId, err);
  }

  /**
   * Send head (if pending) + chunk as STDOUT records; with `final`, the end of stream and END_REQUEST too.
   * A string chunk (endText, `length` its UTF-8 bytes, at most COPY_LIMIT) always takes the fast path.
   */
  private emit(chunk: Buffer | string, final: boolean, length = (chunk as Buffer).length): boolean {
    const id = this.state.requestId;
    const head = this.head;
    this.head = null;
    const headLen = head === null ? 0 : head.length;
    const n = headLen + length;
    const tail = final ? HEADER_LEN + END_REQUEST_LEN : 0;

    if (n <= MAX_CONTENT && (length <= COPY_LIMIT || headLen > 0)) {
      // Fast path: one record, one buffer, one write.
      const recLen = n === 0 ? 0 : HEADER_LEN + n;
      const out = Buffer.allocUnsafe(recLen + tail);
      let pos = 0;
      if (n > 0) {
        writeHeader(out, 0, FCGI_STDOUT, id, n);
        pos = HEADER_LEN;
        // TypedArray#set: a builtin, where Buffer#copy and Buffer#write check their arguments in C++.
        if (head !== null) {
          out.set(head, pos);
          pos += headLen;
        }
        if (typeof chunk !== 'string') {
          out.set(chunk, pos);
          pos += length;
        } else pos += utf8Write !== undefined ? utf8Write.call(out, chunk, pos, length) : out.write(chunk, pos, length, 'utf8');
      }
      if (final) writeTail(out, pos, id);
      return this.host.send(out, final && head !== null);
    }

    // A string here only behind a head too large for one record with it.
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let ok = true;
    if (head !== null) {
      for (let from = 0; from < head.length; from += MAX_CONTENT) {
        const part = head.subarray(from, from + MAX_CONTENT);
        const rec = Buffer.allocUnsafe(HEADER_LEN + part.length);
        writeHeader(rec, 0, FCGI_STDOUT, id, part.length);
        part.copy(rec, HEADER_LEN);
        ok = this.host.send(rec);
      }
    }
    const count = Math.ceil(bytes.length / MAX_CONTENT);
    const headers = Buffer.allocUnsafe(count * HEADER_LEN);
    for (let i = 0; i < count; i++) {
      const part = bytes.subarray(i * MAX_CONTENT, (i + 1) * MAX_CONTENT);
      writeHeader(headers, i * HEADER_LEN, FCGI_STDOUT, id, part.length);
      this.host.send(headers.subarray(i * HEADER_LEN, (i + 1) * HEADER_LEN));
      ok = this.host.send(part);
    }
    if (final) {
      const out = Buffer.allocUnsafe(tail);
      writeTail(out, 0, id);
      ok = this.host.send(out);
    }
    return ok;
  }
}

/** Empty FCGI_STDOUT (end of stream) + FCGI_END_REQUEST. */
function writeTail(out: Buffer, pos: number, id: number): void {
  writeHeader(out, pos, FCGI_STDOUT, id, 0);
  writeEndRequest(out, pos + HEADER_LEN, id, 0, FCGI_REQUEST_COMPLETE);
}
