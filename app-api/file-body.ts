/**
 * A body that is a byte range of a file on disk: PEP 3333's `wsgi.file_wrapper` idea, as a body the app (or
 * the static-files tool) returns. It is an ordinary async iterable of chunks read from a `fs.ReadStream`, so
 * every front and every concurrency mode can serve it unchanged, never holding the whole file in memory.
 * It also carries its range under the `tsgi.file` key: a front whose sink can send a file itself (the
 * built-in HTTP server pipes a ReadStream into the socket) gets the range from the core instead of chunks
 * that passed through the app layer.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import type { Body } from './types.js';

/** The key a file body carries its range under (a string, not a symbol, so it is plain data). */
export const FILE_KEY = 'tsgi.file';

/** Bytes `start..end` (both inclusive, as in a Content-Range) of the file at `path`; `end = start - 1`: empty. */
export interface FileRange {
  readonly path: string;
  readonly start: number;
  readonly end: number;
}

/** Read size of the chunks: Node's default for file streams, so each chunk is one read(2) into a fresh buffer. */
const CHUNK = 64 * 1024;

/** A response body streaming `range` of a file. `close()` releases the file if the body was not read to the end. */
export class FileBody implements AsyncIterable<Buffer> {
  readonly [FILE_KEY]: FileRange;
  private stream: ReadStream | null = null;

  constructor(range: FileRange) {
    this[FILE_KEY] = range;
  }

  /** The number of bytes this body yields. */
  get length(): number {
    return this[FILE_KEY].end - this[FILE_KEY].start + 1;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const { path, start, end } = this[FILE_KEY];
    if (end < start) return { next: async () => ({ done: true, value: undefined }) };
    this.stream = createReadStream(path, { start, end, highWaterMark: CHUNK });
    return this.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  close(): void {
    this.stream?.destroy();
    this.stream = null;
  }
}

/** The file range a body carries, when it is a file body (from FileBody or any object with a valid `tsgi.file`). */
export function fileRangeOf(body: unknown): FileRange | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const r = (body as Record<string, unknown>)[FILE_KEY] as FileRange | undefined;
  if (r === undefined || r === null || typeof r !== 'object') return undefined;
  if (typeof r.path !== 'string' || !Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.end) || r.start < 0 || r.end < r.start - 1) return undefined;
  return r;
}

/** Type guard for bodies built by `new FileBody(...)`. */
export function isFileBody(body: Body | unknown): body is FileBody {
  return body instanceof FileBody;
}
