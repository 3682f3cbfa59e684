/**
 * The CGI response channel: stdout (a pipe to the web server), written without ever blocking the event loop.
 *
 * Why not blocking writes: when the client goes away mid-response, the web server stops reading the pipe.
 * A process blocked in write(2) on the full pipe runs no JavaScript, so the app's body `close()` never runs
 * and the web server ends up killing it (Apache: SIGTERM, SIGKILL 3 s later; lighttpd: SIGTERM). With the
 * loop free, a closed pipe (EPIPE), a stream error or SIGTERM is seen as "client gone": the gateway core
 * stops iterating the body and calls close() exactly once.
 *
 * Why not `process.stdout`: creating it costs start-up time (tty/net stream machinery), the whole cost of a
 * CGI request. So the first bytes, up to one page, go out with plain writeSync: an empty pipe always holds
 * a page (Linux never shrinks a pipe below one page), so these never block, and a small response (the usual
 * case) needs nothing else. Past that budget the pipe is opened as a libuv stream (`net.Socket` on the fd,
 * loaded only then): non-blocking writes, epoll for room, backpressure through 'drain'. A stdout that is not
 * a pipe or socket (a file, /dev/null, a terminal: a developer running the script by hand) cannot be
 * blocked by a client and keeps synchronous writes.
 *
 * SIGPIPE needs nothing: Node ignores it, so a write to a pipe nobody reads fails with EPIPE instead.
 */
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/** Bytes written synchronously before switching to the stream: what any empty pipe holds (one page). */
export const SYNC_BUDGET = 4096;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** errno codes that mean the reader is gone, not that we did something wrong. */
const GONE_CODES = new Set(['EPIPE', 'ECONNRESET', 'ENOTCONN', 'ERR_STREAM_DESTROYED', 'EBADF']);

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

/**
 * Write all of `data` to `fd`, blocking. Waits out EAGAIN (a non-blocking pipe that is full). Returns false
 * when the reader is gone (EPIPE: the web server dropped the request). For stderr and for tiny outputs
 * before exit; the response body goes through `StdoutWriter`.
 */
export function writeAllSync(fd: number, data: Buffer | string): boolean {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      const code = errCode(err);
      if (code === 'EAGAIN') Atomics.wait(sleeper, 0, 0, 1);
      else if (code === 'EPIPE') return false;
      else throw err;
    }
  }
  return true;
}

/** Writes a byte stream to a file descriptor without blocking the event loop (see the file comment). */
export class StdoutWriter {
  private syncBytes = 0;
  /** null: not opened yet; false: not a pipe/socket, stay synchronous. */
  private stream: Socket | null | false = null;
  private gone = false;
  /** Settles pending waits (drain, flush) when the reader goes away. */
  private readonly goneWaiters: Array<() => void> = [];

  constructor(private readonly fd: number) {}

  /** True once the reader is gone (EPIPE, a stream error, or `markGone()` on SIGTERM). */
  get closed(): boolean {
    return this.gone;
  }

  /** The client is gone: stop writing, release whoever waits for room or for the flush. */
  markGone(): void {
    if (this.gone) return;
    this.gone = true;
    if (this.stream) this.stream.destroy();
    for (const wake of this.goneWaiters.splice(0)) wake();
  }

  /**
   * Write `data`. Returns a promise when the caller should wait before writing more (the pipe is full); it
   * resolves, never rejects, when there is room again or the reader is gone (check `closed`).
   */
  write(data: Buffer): void | Promise<void> {
    if (this.gone || data.length === 0) return;
    if (this.stream === null && this.syncBytes + data.length <= SYNC_BUDGET) {
      const off = this.writeSyncPart(data);
      if (off === data.length || this.gone) return;
      data = data.subarray(off); // EAGAIN: a non-blocking pipe that is full; the stream waits for room
    }
    if (this.stream === null) this.stream = this.open();
    if (this.stream === false) {
      if (!writeAllSync(this.fd, data)) this.markGone();
      return;
    }
    const stream = this.stream;
    if (stream.write(data)) return;
    return this.until((wake) => stream.once('drain', wake));
  }

  /** Resolves once everything written is in the kernel (or the reader is gone): safe to exit then. */
  flushed(): Promise<void> {
    const stream = this.stream;
    if (this.gone || !stream || stream.writableLength === 0) return Promise.resolve();
    // An empty write's callback runs after every write queued before it has completed.
    return this.until((wake) => stream.write(Buffer.alloc(0), () => wake()));
  }

  /** Write as much as a synchronous write takes; returns the bytes written. */
  private writeSyncPart(data: Buffer): number {
    let off = 0;
    while (off < data.length) {
      try {
        off += writeSync(this.fd, data, off, data.length - off);
      } catch (err) {
        if (errCode(err) === 'EAGAIN') break;
        if (GONE_CODES.has(errCode(err) ?? '')) this.markGone();
        else throw err;
        break;
      }
    }
    this.syncBytes += off;
    return off;
  }

  /** The fd as a libuv stream, or false when it is not a pipe or socket (files and terminals stay sync). */
  private open(): Socket | false {
    // Loaded here, not at start-up: most CGI responses fit the synchronous budget and never need it.
    const net = createRequire(import.meta.url)('node:net') as typeof import('node:net');
    let stream: Socket;
    try {
      stream = new net.Socket({ fd: this.fd, readable: false, writable: true });
    } catch {
      return false; // ERR_INVALID_FD_TYPE: a file, /dev/null or a terminal
    }
    stream.on('error', () => this.markGone());
    stream.on('close', () => {
      if (stream.writableLength > 0) this.markGone();
    });
    return stream;
  }

  private until(register: (wake: () => void) => void): Promise<void> {
    return new Promise<void>((resolve) => {
      let done = false;
      const wake = (): void => {
        if (done) return;
        done = true;
        const i = this.goneWaiters.indexOf(wake);
        if (i !== -1) this.goneWaiters.splice(i, 1);
        resolve();
      };
      this.goneWaiters.push(wake);
      register(wake);
    });
  }
}
