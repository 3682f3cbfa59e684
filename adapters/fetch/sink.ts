/**
 * ResponseSink that becomes a fetch Response: `start` resolves the Response (status, reason, headers, each
 * Set-Cookie kept apart by Headers), body bytes go into a pull-based ReadableStream. A write waits while the
 * stream's reader is behind (backpressure, as Http1Sink waits for 'drain'); a cancelled stream (the client
 * went away) makes the sink `closed`, so the core stops the body and calls its close().
 */
import type { HeaderList } from '../../app-api/types.js';
import type { ResponseSink } from '../../gateway/core/sink.js';

/** Statuses whose Response must have a null body (fetch spec "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** A sink whose response is `response`, a promise settled at `start` (or rejected if the core never starts). */
export class FetchSink implements ResponseSink {
  readonly response: Promise<Response>;
  private resolve!: (r: Response) => void;
  private reject!: (err: Error) => void;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private pulled: (() => void) | null = null;
  private cancelled = false;
  private started = false;
  private ended = false;

  constructor(private readonly method: string) {
    this.response = new Promise<Response>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  get closed(): boolean {
    return this.cancelled;
  }

  start(code: number, reason: string, headers: HeaderList): void {
    this.started = true;
    const h = new Headers();
    for (const [name, value] of headers) h.append(name, value);
    const noBody = NULL_BODY.has(code) || this.method === 'HEAD';
    const body = noBody
      ? null
      : new ReadableStream<Uint8Array>(
          {
            start: (controller) => {
              this.controller = controller;
            },
            pull: () => {
              const wake = this.pulled;
              this.pulled = null;
              wake?.();
            },
            cancel: () => {
              this.cancelled = true;
              const wake = this.pulled;
              this.pulled = null;
              wake?.();
            },
          },
          { highWaterMark: 1 },
        );
    this.resolve(new Response(body, { status: code, statusText: reason, headers: h }));
  }

  write(chunk: Buffer): void | Promise<void> {
    const c = this.controller;
    if (c === null || this.cancelled) return;
    c.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if ((c.desiredSize ?? 0) > 0) return;
    return new Promise<void>((resolve) => (this.pulled = resolve));
  }

  end(last?: Buffer): void {
    const c = this.controller;
    if (c === null || this.cancelled) return;
    if (last !== undefined && last.length > 0) c.enqueue(new Uint8Array(last.buffer, last.byteOffset, last.byteLength));
    c.close();
    this.ended = true;
  }

  /**
   * The Request's signal aborted before the response was done: the sink reads closed (the core stops the
   * body), and the stream ends, so a reader still on it is not left waiting. Ended, not errored: a server
   * that reads the stream after its client left (@hono/node-server) logs a stream error as a failure and
   * writes an error page to the dead socket, while whoever aborted a Request knows its body is cut short.
   */
  clientLeft(): void {
    if (this.cancelled || this.ended) return;
    this.cancelled = true;
    this.controller?.close();
    const wake = this.pulled;
    this.pulled = null;
    wake?.();
  }

  abort(err: Error): void {
    if (!this.started) this.reject(err);
    else if (this.controller !== null && !this.cancelled) this.controller.error(err);
  }

  /** Called when the core is done: a request it never answered (a core bug) must not hang the caller. */
  settle(): void {
    if (!this.started) this.reject(new Error('tsgi: the gateway finished without starting a response'));
  }
}
