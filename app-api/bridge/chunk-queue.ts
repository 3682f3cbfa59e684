/**
 * What a bridged Node app writes, as the tsgi body the gateway pulls. The queue stands where Node's socket
 * buffer would: `push` answers false above the high-water mark (so `res.write()` returns false and `pipe()`
 * pauses), and `onDrain` fires once the gateway has taken the queue below it again (`'drain'`). A write's
 * callback runs when the gateway has taken that chunk, as Node runs it when the socket took the bytes.
 */
import { tsgiError } from '../errors.js';

/** Node's default socket writableHighWaterMark. */
const HIGH_WATER_MARK = 16 * 1024;

type Callback = (err?: Error | null) => void;

/** A single-consumer async queue of response chunks with Node-style backpressure. */
export class ChunkQueue implements AsyncIterable<Buffer> {
  private readonly chunks: Buffer[] = [];
  private readonly callbacks: Array<Callback | undefined> = [];
  private size = 0;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private needDrain = false;
  /** Set once the consumer has stopped reading (the gateway closed the body). */
  stopped = false;

  constructor(private readonly onDrain: () => void) {}

  /** True once end() was called. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Queue a chunk; false when the writer should wait for onDrain. */
  push(chunk: Buffer, callback?: Callback): boolean {
    if (this.stopped) {
      if (callback !== undefined) process.nextTick(callback, tsgiError('TSGI_ERR_INPUT_CLOSED', { problem: 'the client went away' }));
      return false;
    }
    if (chunk.length > 0 || callback !== undefined) {
      this.chunks.push(chunk);
      this.callbacks.push(callback);
      this.size += chunk.length;
    }
    this.notify();
    if (this.size >= HIGH_WATER_MARK) this.needDrain = true;
    return !this.needDrain;
  }

  /** No more chunks after those queued. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** The writer failed (the app destroyed the response): the consumer's next read throws. */
  fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  /**
   * The whole body, when it was written and ended before anyone read: the gateway can then send it in one
   * piece with a Content-Length (its fast path). Empties the queue and runs the callbacks.
   */
  takeAll(): Buffer[] | null {
    if (!this.ended || this.failure !== null) return null;
    const out = this.chunks.filter((c) => c.length > 0);
    const callbacks = this.callbacks.filter((c) => c !== undefined);
    this.chunks.length = 0;
    this.callbacks.length = 0;
    this.size = 0;
    for (const cb of callbacks) process.nextTick(cb);
    return out;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        if (this.failure !== null) throw this.failure;
        if (this.chunks.length > 0) {
          const chunk = this.chunks.shift()!;
          const callback = this.callbacks.shift();
          this.size -= chunk.length;
          if (chunk.length > 0) yield chunk;
          callback?.();
          if (this.needDrain && this.size < HIGH_WATER_MARK) {
            this.needDrain = false;
            this.onDrain();
          }
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      if (this.chunks.length > 0 || !this.ended) this.stopped = true;
    }
  }
}
