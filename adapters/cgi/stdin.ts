/**
 * The CGI request body: exactly CONTENT_LENGTH bytes of file descriptor 0 (RFC 3875 4.2), or, for a request
 * whose length was not known in advance (a chunked upload: Apache de-chunks it and streams it on stdin with
 * no CONTENT_LENGTH), everything up to EOF. Read both ways
 * tsgi.input offers: as an async iterable (fs.read, off the event loop), and blocking (fs.readSync), since a
 * CGI process serves one request and may block, so a synchronous app can read its body. Both share one
 * count, so an app may mix them. process.stdin is not used: creating it costs start-up time (it loads the
 * net/tty stream machinery) and it reads ahead of what the app asked for.
 */
import { read, readSync } from 'node:fs';
import { tsgiError, TsgiError } from '../../app-api/errors.js';

const CHUNK = 64 * 1024;

function isEagain(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'EAGAIN';
}

// A blocking 1 ms sleep, for a non-blocking fd 0 in readSync (a parent left O_NONBLOCK set).
const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** A body read from a file descriptor: a fixed length, or (length null) up to EOF. */
export class FdBody implements AsyncIterable<Buffer> {
  /** Bytes still expected; Infinity while reading to EOF. */
  private remaining: number;
  /** Bytes read so far. */
  private received = 0;

  /**
   * @param fd the descriptor to read (0 in a CGI process).
   * @param length CONTENT_LENGTH, or null to read until EOF (the web server closes stdin after the body).
   */
  constructor(private readonly fd: number, readonly length: number | null) {
    this.remaining = length ?? Infinity;
  }

  private truncated(): TsgiError {
    return tsgiError('TSGI_ERR_INPUT_CLOSED', { problem: `stdin ended after ${this.received} of the ${String(this.length)} body bytes CONTENT_LENGTH announced` });
  }

  /** EOF: the end of a read-to-EOF body, or a body cut short. */
  private eof(): void {
    if (this.length !== null) throw this.truncated();
    this.remaining = 0;
  }

  private took(n: number): void {
    this.remaining -= n;
    this.received += n;
  }

  /** Blocking read of up to `size` bytes; an empty Buffer once the whole body was read. */
  readSync(size: number): Buffer {
    if (this.remaining === 0 || size <= 0) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(Math.min(size, this.remaining, 1 << 20));
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, buf, 0, buf.length, null);
      } catch (err) {
        if (isEagain(err)) {
          sleepSync(1);
          continue;
        }
        throw tsgiError('TSGI_ERR_INPUT_CLOSED', { problem: `reading the body from stdin failed: ${(err as Error).message}` }, { cause: err });
      }
      if (n === 0) {
        this.eof();
        return Buffer.alloc(0);
      }
      this.took(n);
      return n === buf.length ? buf : buf.subarray(0, n);
    }
  }

  private readAsync(buf: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      const attempt = (): void => {
        read(this.fd, buf, 0, buf.length, null, (err, n) => {
          if (err === null) resolve(n);
          else if (isEagain(err)) setTimeout(attempt, 1);
          else reject(tsgiError('TSGI_ERR_INPUT_CLOSED', { problem: `reading the body from stdin failed: ${err.message}` }, { cause: err }));
        });
      };
      attempt();
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    while (this.remaining > 0) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, this.remaining));
      const n = await this.readAsync(buf);
      if (n === 0) {
        this.eof();
        return;
      }
      this.took(n);
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  }
}
