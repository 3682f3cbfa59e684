/**
 * A FastCGI input stream (FCGI_STDIN or FCGI_DATA of one request) as the AsyncIterable<Buffer> that
 * becomes tsgi.input. Record contents are queued until the app reads them; when more than a high-water
 * mark is queued for a request the app is not reading, the connection stops reading its socket (TCP
 * then pushes back on the web server), so a 100 MB upload is never held in memory.
 */
import { tsgiError } from '../../app-api/errors.js';

/** Pauses and resumes the connection's socket for the streams that are over their limit. */
export interface FlowControl {
  /** A stream went over its high-water mark. */
  hold(): void;
  /** A stream that was over its mark drained (or was dropped). */
  release(): void;
}

type Waiter = { resolve: (r: IteratorResult<Buffer>) => void; reject: (err: Error) => void };

const DONE: IteratorResult<Buffer> = Object.freeze({ done: true, value: undefined }) as IteratorResult<Buffer>;

/** One request's input stream. Single consumer (tsgi.input reads it through one iterator). */
export class RecordStream implements AsyncIterable<Buffer>, AsyncIterator<Buffer> {
  private queue: Buffer[] = [];
  private head = 0;
  private bytes = 0;
  private ended = false;
  private error: Error | null = null;
  private waiter: Waiter | null = null;
  private holding = false;
  private discarding = false;

  /**
   * @param flow the connection's socket pause/resume.
   * @param highWaterMark bytes queued before the socket is paused; it resumes below half of it.
   */
  constructor(private readonly flow: FlowControl, private readonly highWaterMark: number) {}

  /** True once the end-of-stream record arrived. */
  get complete(): boolean {
    return this.ended;
  }

  /** Content of one record (not empty). `chunk` is a view into socket data: kept as is, no copy. */
  push(chunk: Buffer): void {
    if (this.discarding || this.ended || this.error !== null) return;
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w.resolve({ done: false, value: chunk });
      return;
    }
    this.queue.push(chunk);
    this.bytes += chunk.length;
    if (!this.holding && this.bytes > this.highWaterMark) {
      this.holding = true;
      this.flow.hold();
    }
  }

  /** The empty record: end of stream. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const w = this.waiter;
    if (w !== null && this.bytes === 0) {
      this.waiter = null;
      w.resolve(DONE);
    }
  }

  /** The request went away (abort, connection closed): a pending and every later read fails. */
  fail(err: Error): void {
    if (this.ended && this.bytes === 0) return; // everything was delivered: nothing lost
    if (this.error !== null) return;
    this.error = err;
    this.dropQueue();
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w.reject(err);
    }
  }

  /** The response is done (or the app stopped iterating): drop what is queued and what still arrives. */
  discard(): void {
    this.discarding = true;
    this.dropQueue();
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w.resolve(DONE);
    }
  }

  private dropQueue(): void {
    this.queue = [];
    this.head = 0;
    this.bytes = 0;
    if (this.holding) {
      this.holding = false;
      this.flow.release();
    }
  }

  next(): Promise<IteratorResult<Buffer>> {
    if (this.head < this.queue.length) {
      const chunk = this.queue[this.head];
      this.queue[this.head++] = undefined as unknown as Buffer;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      this.bytes -= chunk.length;
      if (this.holding && this.bytes <= this.highWaterMark / 2) {
        this.holding = false;
        this.flow.release();
      }
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.error !== null) return Promise.reject(this.error);
    if (this.ended || this.discarding) return Promise.resolve(DONE);
    if (this.waiter !== null) {
      return Promise.reject(tsgiError('TSGI_ERR_INPUT_BUSY'));
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Buffer>> {
    this.discard();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }
}
