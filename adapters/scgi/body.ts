/**
 * The body of a stream-framed request (SCGI: exactly CONTENT_LENGTH bytes after the head) as the
 * AsyncIterable<Buffer> that becomes tsgi.input, with backpressure: while more than `highWater` bytes wait
 * for the app, the socket is paused, so the kernel's receive window pushes back on the web server and a
 * 100 MB upload the app reads slowly is never held in memory.
 */
import type { Socket } from 'node:net';
import { tsgiError, TsgiError } from '../../app-api/errors.js';

/** Default bytes buffered for the app before the socket is paused. */
export const DEFAULT_BODY_HIGH_WATER = 64 * 1024;

/** A fixed-length body fed from a socket's 'data' events. Iterate it once. */
export class SocketBody implements AsyncIterable<Buffer> {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private remaining: number;
  private error: Error | null = null;
  private wake: (() => void) | null = null;
  private discarding = false;

  constructor(private readonly socket: Socket, readonly length: number, private readonly highWater = DEFAULT_BODY_HIGH_WATER) {
    this.remaining = length;
  }

  /** True once every body byte has arrived from the peer (whether or not the app read them). */
  get complete(): boolean {
    return this.remaining === 0;
  }

  /** Body bytes received from the peer so far. */
  get received(): number {
    return this.length - this.remaining;
  }

  /**
   * Take the body bytes of `chunk`; returns what lies past the end of the body (empty when nothing does).
   * Bytes past the end are the caller's problem: for SCGI they are a protocol error, never a next request.
   */
  push(chunk: Buffer): Buffer {
    if (this.remaining === 0) return chunk;
    const take = Math.min(chunk.length, this.remaining);
    this.remaining -= take;
    const mine = take === chunk.length ? chunk : chunk.subarray(0, take);
    if (!this.discarding && mine.length > 0) {
      this.queue.push(mine);
      this.queued += mine.length;
      // Pause only while more body is still to come: past the end, reading on is how trailing bytes are seen.
      if (this.queued >= this.highWater && this.remaining > 0) this.socket.pause();
      this.notify();
    }
    return take === chunk.length ? EMPTY : chunk.subarray(take);
  }

  /** The body cannot complete (peer gone, timeout): a pending or later read throws `err`. */
  fail(err: Error): void {
    if (this.remaining === 0 || this.error !== null) return;
    this.error = err;
    this.notify();
  }

  /** The app is done with the request: drop what it did not read and read the rest of the body without keeping it. */
  discard(): void {
    this.discarding = true;
    this.queue.length = 0;
    this.queued = 0;
    this.notify();
    if (!this.socket.destroyed) this.socket.resume();
  }

  private notify(): void {
    const w = this.wake;
    if (w !== null) {
      this.wake = null;
      w();
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      if (this.discarding) return;
      if (this.queue.length > 0) {
        const chunk = this.queue.shift()!;
        this.queued -= chunk.length;
        if (this.queued < this.highWater && this.remaining > 0 && !this.socket.destroyed) this.socket.resume();
        yield chunk;
        continue;
      }
      if (this.remaining === 0) return;
      if (this.error !== null) throw this.error;
      if (this.socket.isPaused() && !this.socket.destroyed) this.socket.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

const EMPTY = Buffer.alloc(0);

/** The error a body read gets when the peer goes away before sending the whole body. */
export function truncatedBody(received: number, length: number, peer: string): TsgiError {
  return tsgiError('TSGI_ERR_INPUT_CLOSED', { problem: `the connection from ${peer} closed after ${received} of the ${length} body bytes CONTENT_LENGTH announced` });
}
