/**
 * The CGI response sink: the CGI response head and the body written to stdout (fd 1) with blocking writes,
 * so that when the app is done the response is in the pipe to the web server, whatever happens next
 * (process.exit included). Blocking is right here: one process, one request, nothing else to serve.
 */
import { writeSync } from 'node:fs';
import type { HeaderList } from '../../app-api/types.js';
import type { ResponseSink } from '../../gateway/sink.js';
import { cgiResponseHead } from './response-head.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Write all of `data` to `fd`, blocking. Waits out EAGAIN (a non-blocking pipe that is full). Returns false
 * when the reader is gone (EPIPE: the web server dropped the request).
 */
export function writeAllSync(fd: number, data: Buffer | string): boolean {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(sleeper, 0, 0, 1);
      else if (code === 'EPIPE') return false;
      else throw err;
    }
  }
  return true;
}

/** Writes a CGI response to a file descriptor. */
export class FdSink implements ResponseSink {
  private head: Buffer | null = null;
  private gone = false;
  /** The status sent (0 until start()). */
  status = 0;
  /** True once end() ran. */
  ended = false;

  constructor(private readonly fd: number) {}

  get closed(): boolean {
    return this.gone;
  }

  start(code: number, reason: string, headers: HeaderList): void {
    this.status = code;
    this.head = cgiResponseHead(code, reason, headers);
  }

  private put(chunk: Buffer | undefined): void {
    const head = this.head;
    this.head = null;
    const data = head === null ? chunk : chunk === undefined || chunk.length === 0 ? head : Buffer.concat([head, chunk]);
    if (data !== undefined && data.length > 0 && !this.gone && !writeAllSync(this.fd, data)) this.gone = true;
  }

  write(chunk: Buffer): void {
    this.put(chunk);
  }

  end(last?: Buffer): void {
    this.put(last);
    this.ended = true;
  }

  abort(): void {
    // Nothing on a pipe says "incomplete" but its end: stop writing; the web server sees a short body
    // (which it can tell from Content-Length when the app declared one). The error is in the log.
    this.gone = true;
  }
}
