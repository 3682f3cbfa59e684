/**
 * The request body channel between the main thread and a pool thread: both ends.
 *
 * Chunks travel as transferable ArrayBuffers over a MessagePort dedicated to input. After each message the
 * main thread bumps an Int32 in a SharedArrayBuffer and calls `Atomics.notify`, so a pool thread that is
 * blocked in `tsgi.input.readSync()` (`Atomics.wait` on that Int32) wakes up and takes the chunk with
 * `receiveMessageOnPort` -- without ever returning to its event loop. That is what lets a WSGI-style app
 * that reads its body synchronously run unchanged in a pool thread, while the main thread's event loop
 * (the sockets) never blocks. An async app reads the same queue through the port's message events.
 *
 * Backpressure: the main thread sends at most `window` bytes the thread has not consumed; the thread returns
 * credit as the app reads, so a slow reader holds the client's upload at TCP level, not in memory.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { tsgiError, TsgiError } from '../../app-api/errors.js';
import type { SyncReader } from '../../app-api/input.js';
import { transferable, type InputCredit, type ToInput } from './channel.js';

const EMPTY = Buffer.alloc(0);

interface PumpState {
  id: number;
  outstanding: number;
  stopped: boolean;
  wake: (() => void) | null;
}

/** Main-thread end: pumps one request body at a time into a pool thread, within the credit window. */
export class InputWriter {
  private current: PumpState | null = null;
  private readonly signal: Int32Array;

  constructor(private readonly port: MessagePort, signal: SharedArrayBuffer, private readonly window: number) {
    this.signal = new Int32Array(signal);
    port.on('message', (m: InputCredit) => this.onCredit(m));
    port.unref(); // the Worker, not its ports, decides whether the process stays up
  }

  /** Start sending `body` for request `id` (the previous request's pump, if any, stops). */
  start(id: number, body: AsyncIterable<Buffer | Uint8Array>): void {
    this.stop();
    const state: PumpState = { id, outstanding: 0, stopped: false, wake: null };
    this.current = state;
    void this.pump(state, body);
  }

  /** The request is over: send nothing more for it. Unread body bytes stay in the socket (Node discards them). */
  stop(): void {
    const s = this.current;
    if (s === null) return;
    s.stopped = true;
    s.wake?.();
    this.current = null;
  }

  close(): void {
    this.stop();
    this.port.close();
  }

  private send(msg: ToInput, transfer?: ArrayBuffer[]): void {
    this.port.postMessage(msg, transfer);
    Atomics.add(this.signal, 0, 1);
    Atomics.notify(this.signal, 0);
  }

  private onCredit(m: InputCredit): void {
    const s = this.current;
    if (s === null || s.id !== m.id) return;
    s.outstanding -= m.n;
    if (s.outstanding < this.window && s.wake !== null) {
      const wake = s.wake;
      s.wake = null;
      wake();
    }
  }

  private async pump(s: PumpState, body: AsyncIterable<Buffer | Uint8Array>): Promise<void> {
    // A manual iterator, never `break`: returning early from a request's async iterator destroys the socket.
    const it = body[Symbol.asyncIterator]();
    try {
      for (;;) {
        while (s.outstanding >= this.window && !s.stopped) await new Promise<void>((resolve) => (s.wake = resolve));
        if (s.stopped) return;
        const r = await it.next();
        if (s.stopped) return;
        if (r.done) {
          this.send({ id: s.id, eof: true });
          return;
        }
        const bytes = r.value;
        if (bytes.byteLength === 0) continue;
        const ab = transferable(bytes);
        s.outstanding += ab.byteLength;
        this.send({ id: s.id, chunk: ab }, [ab]);
      }
    } catch (err) {
      if (!s.stopped) this.send({ id: s.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** Pool-thread end: one request's body as an async iterable and as a blocking reader over the same queue. */
export class InputReader {
  private id = -1;
  private queue: Buffer[] = [];
  private eof = false;
  private error: string | null = null;
  private waiter: (() => void) | null = null;
  /** Messages for a request this thread has not started yet (the ports are not ordered with each other). */
  private early: ToInput[] = [];
  private consumed = 0;
  private readonly signal: Int32Array;

  constructor(private readonly port: MessagePort, signal: SharedArrayBuffer, private readonly window: number) {
    this.signal = new Int32Array(signal);
    port.on('message', (m: ToInput) => this.accept(m));
  }

  /** Begin request `id`: returns its body source for `RequestHead`. */
  begin(id: number): { body: AsyncIterable<Buffer>; bodySync: SyncReader } {
    this.id = id;
    this.queue = [];
    this.eof = false;
    this.error = null;
    this.consumed = 0;
    const early = this.early;
    this.early = [];
    for (const m of early) this.accept(m);
    return { body: this.iterate(id), bodySync: (size) => this.readSync(id, size) };
  }

  private accept(m: ToInput): void {
    if (m.id > this.id) {
      this.early.push(m);
      return;
    }
    if (m.id < this.id) return; // left over from an earlier request whose app did not read it all
    if ('chunk' in m) this.queue.push(Buffer.from(m.chunk));
    else if ('eof' in m) this.eof = true;
    else this.error = m.error;
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w();
    }
  }

  /** Return credit when the queue runs dry or enough was read, not per read: fewer messages, no deadlock. */
  private credit(n: number): void {
    this.consumed += n;
    if (this.queue.length === 0 || this.consumed >= this.window / 2) {
      const msg: InputCredit = { id: this.id, n: this.consumed };
      this.consumed = 0;
      this.port.postMessage(msg);
    }
  }

  private failure(): TsgiError {
    return tsgiError('TSGI_ERR_INPUT_CLOSED', { problem: `tsgi.input: the request body could not be read (${this.error}): the client probably went away` });
  }

  private async *iterate(id: number): AsyncGenerator<Buffer> {
    for (;;) {
      if (id !== this.id) return;
      const chunk = this.queue.shift();
      if (chunk !== undefined) {
        this.credit(chunk.length);
        yield chunk;
        continue;
      }
      if (this.error !== null) throw this.failure();
      if (this.eof) return;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Blocking read of up to `size` bytes; empty at EOF. Blocks this thread only (Atomics.wait). */
  private readSync(id: number, size: number): Buffer {
    if (id !== this.id) return EMPTY;
    for (;;) {
      const head = this.queue[0];
      if (head !== undefined) {
        let out: Buffer;
        if (head.length <= size) {
          this.queue.shift();
          out = head;
        } else {
          out = head.subarray(0, size);
          this.queue[0] = head.subarray(size);
        }
        this.credit(out.length);
        return out;
      }
      if (this.error !== null) throw this.failure();
      if (this.eof) return EMPTY;
      const seen = Atomics.load(this.signal, 0);
      const m = receiveMessageOnPort(this.port);
      if (m !== undefined) {
        this.accept(m.message as ToInput);
        continue;
      }
      // Sleeps until the main thread posts the next input message (or it already did: then returns at once).
      Atomics.wait(this.signal, 0, seen);
    }
  }
}
