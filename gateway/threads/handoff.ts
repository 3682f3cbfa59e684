/**
 * How a batch of requests reaches its pool thread without waking the thread's event loop.
 *
 * A message to a thread that sleeps in its event loop costs a wake-up there: an eventfd write, the kernel
 * scheduling the thread, a libuv turn and Node's message dispatch. With one hello-world request per message
 * that was most of the pool's cost: a bare node:http server that posts each request's id to a thread and
 * back serves 0.53x of raw fastify (bench/servers/thread-crossing-floor.ts, bench/modes.ts), and a thread
 * spent about 19 us of CPU per round trip doing nothing else. The same floor with the threads asleep in
 * `Atomics.wait` and woken by `Atomics.notify` served 1.4-1.6x as many requests.
 *
 * So a thread that finishes a batch does not go back to its event loop at once: it waits up to `waitMs` on
 * a shared Int32 (a futex sleep, no CPU), and the main thread, after putting the next batch in the
 * thread's mailbox, wakes it there. Only a thread that waited `waitMs` for nothing goes back to its event
 * loop, and the main thread then rings a doorbell message on the Worker's port for the next batch.
 *
 * The batch itself does not travel as a message either: a postMessage and its receive cost about 6 us on
 * each side whatever wakes the thread (measured: the futex alone, with batches still posted, changed
 * nothing). Only one batch is outstanding per thread (the scheduler hands a batch to an idle thread), so
 * the mailbox is one slot in the same SharedArrayBuffer: the batch as one UTF-16 string (ids, body flags
 * and the `encodeCgi` strings, length-prefixed), written by the main thread and read once by the thread.
 * A batch that does not fit, or has a request whose variables are not a string (a NUL in a value) or that
 * carries front extras, is posted on the request port instead and taken with `receiveMessageOnPort`.
 *
 * The cell says where the thread is:
 *
 *   LOOP     in its event loop (or booting): a new batch needs the doorbell;
 *   RUNNING  serving, or about to look at the port: it looks there before it waits again, nothing to do;
 *   WAITING  asleep in Atomics.wait (or about to be): set RUNNING and notify.
 *
 * Both sides change the cell only by compare-and-swap from the state they expect, and the thread looks at
 * the port again after every change it makes, so a batch posted at any moment is taken: either the main
 * thread's swap succeeds (and it wakes or rings), or the thread's does and its next look finds the batch.
 *
 * The thread's event loop is blocked while it waits, so timers and I/O of the app wait too: at most
 * `waitMs` when no request comes, and the serving loop (worker-main.ts) goes back to the event loop at
 * least every few milliseconds while requests keep coming. A request that does not finish synchronously
 * (it awaits I/O, a body) is served in the event loop as before; the thread waits only with nothing in flight.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { RequestBatch, RequestSpec } from './channel.js';

const LOOP = 0; // a zeroed SharedArrayBuffer: a booting thread is in its event loop
const RUNNING = 1;
const WAITING = 2;
/** Int32 slots: the thread's state, the mailbox's byte length (0: empty), the interrupt flag. */
const STATE = 0;
const MAIL = 1;
const INTERRUPT = 2;
const MAIL_AT = 16;
/** Mailbox room, bytes: 16 requests of 2,000 characters of variables each. */
const MAILBOX = 64 * 1024;

/** A new handoff buffer (one per thread): the state cell and the mailbox. */
export function handoffCell(): SharedArrayBuffer {
  return new SharedArrayBuffer(MAIL_AT + MAILBOX);
}

/** A batch as one string, or null when it must be posted (a request's variables are not a string, or it has extras). */
function encodeBatch(batch: readonly RequestSpec[]): string | null {
  let s = '';
  for (const [id, cgi, hasBody, extra] of batch) {
    if (typeof cgi !== 'string' || extra !== undefined) return null;
    s += id + (hasBody ? ',1,' : ',0,') + cgi.length + ';' + cgi;
  }
  return s;
}

function decodeBatch(s: string): RequestBatch {
  const batch: RequestSpec[] = [];
  let at = 0;
  while (at < s.length) {
    const c1 = s.indexOf(',', at);
    const semi = s.indexOf(';', c1 + 3);
    const length = Number(s.slice(c1 + 3, semi));
    batch.push([Number(s.slice(at, c1)), s.slice(semi + 1, semi + 1 + length), s.charCodeAt(c1 + 1) === 49 /* 1 */]);
    at = semi + 1 + length;
  }
  return { t: 'req', batch };
}

/** The main thread's end: hands batches over and wakes the thread, or rings its doorbell. */
export class HandoffSender {
  private readonly cell: Int32Array;
  private readonly mailbox: Buffer;

  constructor(
    private readonly port: MessagePort,
    buffer: SharedArrayBuffer,
    private readonly doorbell: () => void,
  ) {
    this.cell = new Int32Array(buffer, 0, 3);
    this.mailbox = Buffer.from(buffer, MAIL_AT, MAILBOX);
  }

  /**
   * A control message is on its way on the Worker's port (a stop for an idle thread): a thread waiting for
   * a batch goes back to its event loop now instead of after its wait.
   */
  interrupt(): void {
    const cell = this.cell;
    Atomics.store(cell, INTERRUPT, 1);
    if (Atomics.compareExchange(cell, STATE, WAITING, RUNNING) === WAITING) Atomics.notify(cell, STATE, 1);
  }

  /** Hand `batch` to the thread (which has taken the one before: a thread gets a batch only when idle). */
  send(batch: RequestBatch): void {
    const text = encodeBatch(batch.batch);
    if (text !== null && text.length * 2 <= MAILBOX) {
      this.mailbox.write(text, 0, 'utf16le');
      Atomics.store(this.cell, MAIL, text.length * 2);
    } else this.port.postMessage(batch);
    // Handed over first: whichever swap below succeeds, the thread's next look finds the batch.
    const cell = this.cell;
    if (Atomics.compareExchange(cell, STATE, WAITING, RUNNING) === WAITING) Atomics.notify(cell, STATE, 1);
    else if (Atomics.compareExchange(cell, STATE, LOOP, RUNNING) === LOOP) this.doorbell();
    // RUNNING: the thread looks for a batch before it waits or goes back to its loop.
  }

  close(): void {
    this.port.close();
  }
}

/** The pool thread's end. */
export class HandoffReceiver {
  private readonly cell: Int32Array;
  private readonly mailbox: Buffer;

  constructor(
    private readonly port: MessagePort,
    buffer: SharedArrayBuffer,
    private readonly waitMs: number,
  ) {
    this.cell = new Int32Array(buffer, 0, 3);
    this.mailbox = Buffer.from(buffer, MAIL_AT, MAILBOX);
    // Read only with receiveMessageOnPort: no listener, and the port must not keep the thread alive.
    port.unref();
  }

  /** A batch handed over, if there is one. */
  private take(): RequestBatch | undefined {
    const bytes = Atomics.load(this.cell, MAIL);
    if (bytes > 0) {
      const text = this.mailbox.toString('utf16le', 0, bytes);
      Atomics.store(this.cell, MAIL, 0);
      return decodeBatch(text);
    }
    return receiveMessageOnPort(this.port)?.message as RequestBatch | undefined;
  }

  /**
   * The next batch: at once if one was handed over, else after sleeping up to `waitMs` for one. Undefined
   * when none came: the thread goes back to its event loop and the next batch comes with the doorbell.
   */
  next(): RequestBatch | undefined {
    const cell = this.cell;
    if (this.waitMs > 0) {
      Atomics.store(cell, STATE, WAITING);
      for (;;) {
        const got = this.take();
        if (got !== undefined) {
          Atomics.store(cell, STATE, RUNNING);
          return got;
        }
        // Interrupted (a control message waits on the Worker's port): back to the event loop.
        if (Atomics.exchange(cell, INTERRUPT, 0) === 1) break;
        if (Atomics.wait(cell, STATE, WAITING, this.waitMs) === 'timed-out' && Atomics.compareExchange(cell, STATE, WAITING, LOOP) === WAITING) break;
        // Woken (or the main thread swapped the cell before the wait began): a batch was handed over, or
        // the interrupt flag is up; look again.
        Atomics.store(cell, STATE, WAITING);
      }
    } else Atomics.store(cell, STATE, LOOP);
    // LOOP from here: a batch handed over from now on rings the doorbell; one handed over just before is here.
    const got = this.take();
    if (got === undefined) return undefined;
    Atomics.store(cell, STATE, RUNNING);
    return got;
  }
}
