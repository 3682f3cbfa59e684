/**
 * The response sink: what every front implements so the gateway core can send a response through it.
 * The core decides everything about the response (status, validated headers, framing, when to abort); a
 * sink only puts bytes on its wire (HTTP/1.1, HTTP/2, FastCGI STDOUT records, SCGI/CGI stdout).
 */
import type { FileRange } from '../../app-api/file-body.js';
import type { HeaderList } from '../../app-api/types.js';

/** A front's response writer. */
export interface ResponseSink {
  /** Send status and headers; called at most once, before any write. */
  start(code: number, reason: string, headers: HeaderList): void;
  /** Write body bytes. A returned promise means "wait for it before the next write" (backpressure). */
  write(chunk: Buffer): void | Promise<void>;
  /** Finish the response; `last` is a final chunk, so a front can send headers and a small body together. */
  end(last?: Buffer): void;
  /** The response cannot complete: tear down so the client never takes a truncated body for a whole one. */
  abort(err: Error): void;
  /**
   * Optional: send bytes `file.start..file.end` of a file as the whole body and end the response, copying as
   * little as the front can (the HTTP front pipes a ReadStream into the socket). The core calls it instead of
   * iterating a file body (app-api/file-body.ts), after start(), with the Content-Length already set.
   * Resolves when the response is finished; rejects if it could not be (the core then aborts).
   */
  sendFile?(file: FileRange): Promise<void>;
  /**
   * Optional: finish the response with `text` (UTF-8) as its whole body, after start() with the
   * Content-Length set. The core calls it when the app's body is one string, so a front that can write a
   * string with the head (Node's HTTP writer joins them into one buffer) skips encoding it to a Buffer
   * first; fronts without it get the Buffer through end().
   */
  endText?(text: string): void;
  /** True once the client is gone: the core stops producing the body and calls close(). */
  readonly closed: boolean;
}
