/**
 * The CGI response sink: the CGI response head and the body, written to stdout through `StdoutWriter`
 * (adapters/cgi/stdout.ts): never blocking the event loop, with backpressure, so that a client that goes
 * away is noticed (EPIPE, SIGTERM) and the gateway core stops the body and calls its close(). `flushed()`
 * tells when the whole response is in the pipe, so the process can exit without losing any of it.
 */
import type { HeaderList } from '../../app-api/types.js';
import type { ResponseSink } from '../../gateway/core/sink.js';
import { cgiResponseHead } from './response-head.js';
import { StdoutWriter, writeAllSync } from './stdout.js';

export { writeAllSync };

/** Writes a CGI response to a file descriptor. */
export class FdSink implements ResponseSink {
  private head: Buffer | null = null;
  private readonly out: StdoutWriter;
  /** The status sent (0 until start()). */
  status = 0;
  /** True once end() ran. */
  ended = false;

  constructor(fd: number) {
    this.out = new StdoutWriter(fd);
  }

  /** True once the client is gone (the web server closed the pipe, or sent SIGTERM). */
  get closed(): boolean {
    return this.out.closed;
  }

  start(code: number, reason: string, headers: HeaderList): void {
    this.status = code;
    this.head = cgiResponseHead(code, reason, headers);
  }

  private put(chunk: Buffer | undefined): void | Promise<void> {
    const head = this.head;
    this.head = null;
    const data = head === null ? chunk : chunk === undefined || chunk.length === 0 ? head : Buffer.concat([head, chunk]);
    if (data !== undefined) return this.out.write(data);
  }

  write(chunk: Buffer): void | Promise<void> {
    return this.put(chunk);
  }

  end(last?: Buffer): void {
    // A returned wait is covered by flushed(): nothing is written after end().
    void this.put(last);
    this.ended = true;
  }

  abort(): void {
    // Nothing on a pipe says "incomplete" but its end: stop writing; the web server sees a short body
    // (which it can tell from Content-Length when the app declared one). The error is in the log.
    this.out.markGone();
  }

  /** The client is gone (SIGTERM from the web server): the core stops the body at its next step. */
  clientGone(): void {
    this.out.markGone();
  }

  /** Resolves when everything written is in the pipe, or the client is gone. Await before exiting. */
  flushed(): Promise<void> {
    return this.out.flushed();
  }
}
