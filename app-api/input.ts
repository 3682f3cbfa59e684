/**
 * `tsgi.input`: the request body as a pull stream over any async iterable of Buffers (a Node request, a
 * FastCGI STDIN record queue, CGI stdin, a worker-thread channel). Nothing is read until the app asks, so a
 * request whose body the app never reads costs nothing here, and a 1 GB upload is never held in memory.
 */
import { tsgiError } from './errors.js';
import type { InputStream } from './types.js';

const EMPTY = Buffer.alloc(0);

/** A blocking reader for runtimes that can block (pool threads, CGI stdin): returns up to `size` bytes, empty at EOF. */
export type SyncReader = (size: number) => Buffer;

/** The standard tsgi.input implementation. */
export class BodyInput implements InputStream {
  private iterator: AsyncIterator<Buffer | Uint8Array | string> | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private done: boolean;
  private reading = false;

  /**
   * @param source the body; null for a request without one.
   * @param syncReader a blocking reader, when this runtime has one; else readSync throws TSGI_ERR_SYNC_INPUT.
   */
  constructor(private readonly source: AsyncIterable<Buffer | Uint8Array | string> | null, private readonly syncReader?: SyncReader) {
    this.done = source === null;
  }

  /** A BodyInput over bytes already in memory: readSync works on it. */
  static fromBuffer(buf: Buffer): BodyInput {
    const input = new BodyInput(null);
    if (buf.length > 0) {
      input.pending.push(buf);
      input.pendingBytes = buf.length;
    }
    return input;
  }

  private async pull(): Promise<boolean> {
    if (this.done) return false;
    if (this.reading) throw tsgiError('TSGI_ERR_INPUT_BUSY');
    this.reading = true;
    try {
      if (this.iterator === null) this.iterator = this.source![Symbol.asyncIterator]();
      const r = await this.iterator.next();
      if (r.done) {
        this.done = true;
        return false;
      }
      const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      if (chunk.length > 0) {
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
      }
      return true;
    } finally {
      this.reading = false;
    }
  }

  private take(n: number): Buffer {
    if (n >= this.pendingBytes) {
      const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      return all ?? EMPTY;
    }
    const out: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const head = this.pending[0];
      if (head.length <= need) {
        out.push(head);
        this.pending.shift();
        need -= head.length;
      } else {
        out.push(head.subarray(0, need));
        this.pending[0] = head.subarray(need);
        need = 0;
      }
    }
    this.pendingBytes -= n;
    return out.length === 1 ? out[0] : Buffer.concat(out, n);
  }

  async read(size?: number): Promise<Buffer> {
    const want = size === undefined || size < 0 ? Infinity : size;
    if (want === 0) return EMPTY;
    while (this.pendingBytes < want && (await this.pull()));
    return this.take(Math.min(want, this.pendingBytes));
  }

  async readline(limit?: number): Promise<Buffer> {
    const max = limit === undefined || limit < 0 ? Infinity : limit;
    for (;;) {
      const nl = this.indexOfNewline();
      if (nl >= 0 && nl + 1 <= max) return this.take(nl + 1);
      if (this.pendingBytes >= max) return this.take(max);
      if (!(await this.pull())) return this.take(this.pendingBytes);
    }
  }

  private indexOfNewline(): number {
    let offset = 0;
    for (const b of this.pending) {
      const i = b.indexOf(10);
      if (i >= 0) return offset + i;
      offset += b.length;
    }
    return -1;
  }

  readSync(size?: number): Buffer {
    const want = size === undefined || size < 0 ? Infinity : size;
    if (this.done || this.pendingBytes >= want) return this.take(Math.min(want, this.pendingBytes));
    if (this.syncReader === undefined) {
      throw tsgiError('TSGI_ERR_SYNC_INPUT', { problem: 'tsgi.input.readSync() cannot block on the event loop, where this app runs' });
    }
    while (this.pendingBytes < want) {
      const chunk = this.syncReader(want === Infinity ? 65536 : want - this.pendingBytes);
      if (chunk.length === 0) {
        this.done = true;
        break;
      }
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    return this.take(Math.min(want, this.pendingBytes));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      if (this.pendingBytes > 0) {
        yield this.take(this.pendingBytes);
        continue;
      }
      if (!(await this.pull())) return;
    }
  }
}

/** An input with no body: every read is EOF at once. */
export function emptyInput(): BodyInput {
  return new BodyInput(null);
}
