/**
 * The response path between a pool thread and the main thread: both ends.
 *
 * In the thread, `ProxySink` is the ResponseSink the gateway core (serveApp) writes to: it posts the status,
 * headers and body parts to the main thread. There, `ResponseRelay` applies them, in order, to the front's
 * real sink and returns credit as the real sink drains. Status and header validation and body framing
 * already happened in the thread, in the one gateway core; neither end here looks inside a header.
 *
 * Messages are merged where the core allows it: startResponse's head rides on the first write or on the end,
 * and the end rides with "the thread is free" (`done`), so a hello-world response is one message.
 */
import { ClientGone } from '../core/client-gone.js';
import type { HeaderList } from '../../app-api/types.js';
import type { ResponseSink } from '../core/sink.js';
import { bodyFromWire, bodyToWire, decodeHead, encodeHead, wireLength, type FromWorker, type ToWorker, type WireHead } from './channel.js';

/** Small writes are batched up to this many bytes per message. */
const BATCH = 64 * 1024;

type Post = (msg: FromWorker, transfer?: ArrayBuffer[]) => void;
type Final = Extract<FromWorker, { t: 'end' } | { t: 'abort' }>;

/** Thread end: the sink serveApp writes to. */
export class ProxySink implements ResponseSink {
  private _closed = false;
  private head: WireHead | undefined;
  private final: Final | null = null;
  private outstanding = 0;
  private waiter: (() => void) | null = null;
  private done = false;
  private batch: ArrayBuffer | null = null;
  private batchLength = 0;
  private flushScheduled = false;
  private lastTransfer: ArrayBuffer[] | undefined;

  /** The thread's side of the request's tsgi.client_gone, aborted when the main thread says the client left. */
  readonly clientGone = new ClientGone();

  constructor(readonly id: number, private readonly post: Post, private readonly window: number) {}

  get closed(): boolean {
    return this._closed;
  }

  private takeHead(): WireHead | undefined {
    const h = this.head;
    this.head = undefined;
    return h;
  }

  start(code: number, reason: string, headers: HeaderList): void {
    this.head = encodeHead(code, reason, headers);
    // Normally the first write or the end picks the head up in this same tick; if neither comes, send it alone.
    queueMicrotask(() => {
      if (this.head !== undefined && this.final === null && this.batchLength === 0) this.post({ t: 'head', id: this.id, head: this.takeHead()! });
    });
  }

  write(chunk: Buffer): void | Promise<void> {
    if (this._closed) return;
    const n = chunk.byteLength;
    if (this.batchLength + n > BATCH) this.flush();
    if (n >= BATCH / 2) this.send(chunk);
    else {
      // Small writes are copied into one batch and sent together at the end of this turn (or when full):
      // an app yielding 1 KiB pieces costs one message per 64 KiB, not one per piece.
      this.batch ??= new ArrayBuffer(BATCH);
      new Uint8Array(this.batch, this.batchLength, n).set(chunk);
      this.batchLength += n;
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    }
    this.outstanding += n;
    if (this.outstanding < this.window) return;
    this.flush();
    return new Promise<void>((resolve) => (this.waiter = resolve));
  }

  private flush(): void {
    if (this.batchLength === 0 || this.batch === null) return;
    const bytes = new Uint8Array(this.batch, 0, this.batchLength);
    this.batchLength = 0;
    this.send(bytes); // copies (into a string or a fresh ArrayBuffer): the batch buffer is reused
  }

  private send(bytes: Uint8Array): void {
    const [chunk, transfer] = bodyToWire(bytes);
    const msg: FromWorker = { t: 'write', id: this.id, chunk };
    const head = this.takeHead();
    if (head !== undefined) msg.head = head;
    this.post(msg, transfer);
  }

  end(last?: Buffer): void {
    const msg: Final = { t: 'end', id: this.id };
    if (last !== undefined && last.length > 0) {
      const [body, transfer] = bodyToWire(last);
      msg.last = body;
      this.lastTransfer = transfer;
    }
    this.setFinal(msg);
  }

  abort(err: Error): void {
    this.setFinal({ t: 'abort', id: this.id, message: err.message });
  }

  private setFinal(msg: Final): void {
    this.flush();
    const head = this.takeHead();
    if (head !== undefined) msg.head = head;
    this.final = msg;
    // Held until the app's request is finished (usually later in this same turn) so both go as one message.
    // A synchronous app finishes before the microtask runs: then no setImmediate is scheduled, which would
    // cost the thread one more event-loop iteration (an epoll_wait that cannot block) per request.
    queueMicrotask(() => {
      if (!(msg as { sent?: boolean }).sent) setImmediate(() => this.flushFinal());
    });
  }

  private flushFinal(more = false): void {
    const msg = this.final;
    if (msg === null || (msg as { sent?: boolean }).sent) return;
    (msg as { sent?: boolean }).sent = true;
    if (this.done) msg.done = true;
    if (more) msg.more = true;
    this.post(msg, this.lastTransfer);
  }

  /** serveApp finished: the thread is free, or (`more`) it has taken the next request of its batch. */
  finished(more = false): void {
    this.done = true;
    if (this.final !== null && !(this.final as { sent?: boolean }).sent) this.flushFinal(more);
    else this.post(more ? { t: 'done', id: this.id, more } : { t: 'done', id: this.id });
  }

  /** Main-thread messages for this request. */
  control(m: ToWorker): void {
    if (m.t === 'credit') this.outstanding -= m.n;
    else if (m.t === 'gone') {
      this._closed = true;
      this.clientGone.gone('the client went away while the response was being written');
    } else if (m.t === 'left') this.clientGone.gone(m.why);
    if ((this._closed || this.outstanding < this.window) && this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w();
    }
  }
}

/** Main-thread end: applies one request's response parts to the front's sink, in order, with backpressure. */
export class ResponseRelay {
  /** True once status and headers went to the real sink. */
  headersSent = false;
  /** True once the real sink was ended or aborted (by the thread, or by the pool: 504, crash). */
  responded = false;
  private queue: FromWorker[] = [];
  private writing = false;
  private credit = 0;
  private creditScheduled = false;
  private goneSent = false;

  constructor(
    readonly id: number,
    private readonly sink: ResponseSink,
    private readonly toWorker: (m: ToWorker) => void,
    private readonly onResponded: () => void,
  ) {}

  /** A response message from the thread. */
  push(m: FromWorker): void {
    if (this.responded) return;
    this.queue.push(m);
    if (!this.writing) this.drain();
  }

  /** The pool ends the response itself (timeout, crash): nothing from the thread is applied after this. */
  takeOver(): void {
    this.responded = true;
    this.queue = [];
  }

  private drain(): void {
    const sink = this.sink;
    for (;;) {
      if (this.responded) return;
      const m = this.queue.shift();
      if (m === undefined) return;
      if ('head' in m && m.head !== undefined) {
        this.headersSent = true;
        if (!sink.closed) {
          const [code, reason, headers] = decodeHead(m.head);
          sink.start(code, reason, headers);
        }
      }
      if (m.t === 'write') {
        const n = wireLength(m.chunk);
        const wait = sink.closed ? undefined : sink.write(bodyFromWire(m.chunk));
        if (wait !== undefined) {
          this.writing = true;
          wait.then(
            () => this.afterWrite(n),
            () => this.afterWrite(n),
          );
          return;
        }
        this.returnCredit(n);
      } else if (m.t === 'end') {
        this.responded = true;
        if (!sink.closed) sink.end(m.last === undefined ? undefined : bodyFromWire(m.last));
        this.onResponded();
      } else if (m.t === 'abort') {
        this.responded = true;
        if (!sink.closed) sink.abort(new Error(m.message));
        this.onResponded();
      }
    }
  }

  private afterWrite(n: number): void {
    this.writing = false;
    this.returnCredit(n);
    this.drain();
  }

  private returnCredit(n: number): void {
    if (this.sink.closed && !this.goneSent) {
      this.goneSent = true;
      this.toWorker({ t: 'gone', id: this.id });
      return;
    }
    this.credit += n;
    if (this.creditScheduled) return;
    this.creditScheduled = true;
    // Coalesced: all the messages the port delivered in this turn are applied before the credit goes back.
    setImmediate(() => {
      this.creditScheduled = false;
      const c = this.credit;
      this.credit = 0;
      if (c > 0 && !this.responded) this.toWorker({ t: 'credit', id: this.id, n: c });
    });
  }
}
