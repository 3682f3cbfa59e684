/** An in-memory ResponseSink for core tests: records what the gateway core sends, and can play a slow or vanished client. */
import type { HeaderList } from '../../app-api/types.js';
import type { ResponseSink } from '../../gateway/core/sink.js';

/** What happened on the sink, in order. */
export type SinkEvent = { type: 'start'; code: number; reason: string; headers: HeaderList } | { type: 'write'; bytes: Buffer } | { type: 'end'; last?: Buffer; text?: true } | { type: 'abort'; err: Error };

/** Options of a FakeSink. */
export interface FakeSinkOptions {
  /** Every write returns a promise that resolves on a later turn (a client reading slowly). */
  slow?: boolean;
  /** The client goes away after this many write() calls. */
  closeAfterWrites?: number;
  /** The sink takes a one-string body through endText() (as the HTTP front does). */
  text?: boolean;
}

/** A ResponseSink that records. */
export class FakeSink implements ResponseSink {
  readonly events: SinkEvent[] = [];
  /** Order log shared with tests that want to interleave their own marks (backpressure tests). */
  readonly trace: string[] = [];
  closed = false;
  private writes = 0;

  /** Present only with the `text` option, as a front without it has none. */
  endText?: (text: string) => void;

  constructor(private readonly opts: FakeSinkOptions = {}) {
    if (opts.text === true) {
      this.endText = (text: string): void => {
        if (!this.events.some((e) => e.type === 'start')) throw new Error('FakeSink: endText() before start()');
        this.events.push({ type: 'end', last: Buffer.from(text, 'utf8'), text: true });
      };
    }
  }

  start(code: number, reason: string, headers: HeaderList): void {
    if (this.events.some((e) => e.type === 'start')) throw new Error('FakeSink: start() called twice');
    this.events.push({ type: 'start', code, reason, headers: headers.map((h) => [h[0], h[1]]) });
  }

  write(chunk: Buffer): void | Promise<void> {
    if (!this.events.some((e) => e.type === 'start')) throw new Error('FakeSink: write() before start()');
    const n = this.writes++;
    this.events.push({ type: 'write', bytes: Buffer.from(chunk) });
    this.trace.push(`write ${n}`);
    if (this.opts.closeAfterWrites !== undefined && this.writes >= this.opts.closeAfterWrites) this.closed = true;
    if (this.opts.slow) {
      return new Promise((resolve) =>
        setImmediate(() => {
          this.trace.push(`drained ${n}`);
          resolve();
        }),
      );
    }
  }

  end(last?: Buffer): void {
    this.events.push({ type: 'end', last: last === undefined ? undefined : Buffer.from(last) });
  }

  abort(err: Error): void {
    this.events.push({ type: 'abort', err });
    this.closed = true;
  }

  /** The status code sent, or undefined. */
  get status(): number | undefined {
    const s = this.events.find((e) => e.type === 'start');
    return s?.type === 'start' ? s.code : undefined;
  }

  get reason(): string | undefined {
    const s = this.events.find((e) => e.type === 'start');
    return s?.type === 'start' ? s.reason : undefined;
  }

  get headers(): HeaderList {
    const s = this.events.find((e) => e.type === 'start');
    return s?.type === 'start' ? s.headers : [];
  }

  /** First header value by case-insensitive name. */
  header(name: string): string | undefined {
    return this.headers.find((h) => h[0].toLowerCase() === name.toLowerCase())?.[1];
  }

  /** Every body byte that reached the sink (writes and the final chunk). */
  get body(): Buffer {
    const parts: Buffer[] = [];
    for (const e of this.events) {
      if (e.type === 'write') parts.push(e.bytes);
      else if (e.type === 'end' && e.last !== undefined) parts.push(e.last);
    }
    return Buffer.concat(parts);
  }

  get ended(): boolean {
    return this.events.some((e) => e.type === 'end');
  }

  get aborted(): boolean {
    return this.events.some((e) => e.type === 'abort');
  }
}
