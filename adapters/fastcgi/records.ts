/**
 * FastCGI records (FastCGI specification 1.0, section 3.3 and 8): the 8-byte header, the record types and
 * the encoders for what an application sends.
 *
 * Written here rather than taken from node-fastcgi: behind nginx that package measured 2-4k req/s with its
 * process CPU-bound, about a tenth of nginx -> node:http proxy_pass, because it builds objects and copies
 * per record. This layer reads headers straight out of the socket buffers, hands record contents on as
 * subarrays (no copy), and writes a small response (header records, CGI head, body, END_REQUEST) as one
 * buffer in one socket write.
 */

/** The only protocol version there is. */
export const FCGI_VERSION_1 = 1;
/** Bytes in a record header. */
export const HEADER_LEN = 8;
/** The largest record content (16-bit length). */
export const MAX_CONTENT = 65535;

/** Record types. */
export const FCGI_BEGIN_REQUEST = 1;
export const FCGI_ABORT_REQUEST = 2;
export const FCGI_END_REQUEST = 3;
export const FCGI_PARAMS = 4;
export const FCGI_STDIN = 5;
export const FCGI_STDOUT = 6;
export const FCGI_STDERR = 7;
export const FCGI_DATA = 8;
export const FCGI_GET_VALUES = 9;
export const FCGI_GET_VALUES_RESULT = 10;
export const FCGI_UNKNOWN_TYPE = 11;

/** Roles in FCGI_BEGIN_REQUEST. */
export const FCGI_RESPONDER = 1;
export const FCGI_AUTHORIZER = 2;
export const FCGI_FILTER = 3;

/** FCGI_BEGIN_REQUEST flag: keep the connection open after FCGI_END_REQUEST. */
export const FCGI_KEEP_CONN = 1;

/** protocolStatus values of FCGI_END_REQUEST. */
export const FCGI_REQUEST_COMPLETE = 0;
export const FCGI_CANT_MPX_CONN = 1;
export const FCGI_OVERLOADED = 2;
export const FCGI_UNKNOWN_ROLE = 3;

/** Names used in error messages and logs. */
export const RECORD_NAMES: Readonly<Record<number, string>> = {
  1: 'FCGI_BEGIN_REQUEST',
  2: 'FCGI_ABORT_REQUEST',
  3: 'FCGI_END_REQUEST',
  4: 'FCGI_PARAMS',
  5: 'FCGI_STDIN',
  6: 'FCGI_STDOUT',
  7: 'FCGI_STDERR',
  8: 'FCGI_DATA',
  9: 'FCGI_GET_VALUES',
  10: 'FCGI_GET_VALUES_RESULT',
  11: 'FCGI_UNKNOWN_TYPE',
};

/** `FCGI_PARAMS` or `record type 77`, for messages. */
export function recordName(type: number): string {
  return RECORD_NAMES[type] ?? `record type ${type}`;
}

/** Write a record header at `offset` of `buf`. Padding is never used: the spec only recommends it. */
export function writeHeader(buf: Buffer, offset: number, type: number, requestId: number, contentLength: number): void {
  buf[offset] = FCGI_VERSION_1;
  buf[offset + 1] = type;
  buf[offset + 2] = requestId >> 8;
  buf[offset + 3] = requestId & 0xff;
  buf[offset + 4] = contentLength >> 8;
  buf[offset + 5] = contentLength & 0xff;
  buf[offset + 6] = 0;
  buf[offset + 7] = 0;
}

/** One record around `content` (at most MAX_CONTENT bytes), copied into a new buffer. */
export function encodeRecord(type: number, requestId: number, content: Buffer = Buffer.alloc(0)): Buffer {
  if (content.length > MAX_CONTENT) throw new RangeError(`record content of ${content.length} bytes exceeds ${MAX_CONTENT}`);
  const out = Buffer.allocUnsafe(HEADER_LEN + content.length);
  writeHeader(out, 0, type, requestId, content.length);
  content.copy(out, HEADER_LEN);
  return out;
}

/** Bytes needed to carry `n` bytes of stream data as records of at most MAX_CONTENT (no end-of-stream record). */
export function streamRecordsSize(n: number): number {
  return n + HEADER_LEN * Math.ceil(n / MAX_CONTENT);
}

/**
 * Write `n` bytes of stream data as records into `out` at `offset`, taking the bytes from `fill`, which
 * copies `len` bytes of the stream starting at stream position `from` to `out` at `at`. Returns the new offset.
 */
export function writeStreamRecords(
  out: Buffer,
  offset: number,
  type: number,
  requestId: number,
  n: number,
  fill: (at: number, from: number, len: number) => void,
): number {
  let from = 0;
  while (from < n) {
    const len = Math.min(MAX_CONTENT, n - from);
    writeHeader(out, offset, type, requestId, len);
    fill(offset + HEADER_LEN, from, len);
    offset += HEADER_LEN + len;
    from += len;
  }
  return offset;
}

/** Bytes of an FCGI_END_REQUEST record. */
export const END_REQUEST_LEN = HEADER_LEN + 8;

/** Write FCGI_END_REQUEST {appStatus, protocolStatus} at `offset`; returns the new offset. */
export function writeEndRequest(out: Buffer, offset: number, requestId: number, appStatus: number, protocolStatus: number): number {
  writeHeader(out, offset, FCGI_END_REQUEST, requestId, 8);
  out.writeUInt32BE(appStatus >>> 0, offset + 8);
  out[offset + 12] = protocolStatus;
  out[offset + 13] = 0;
  out[offset + 14] = 0;
  out[offset + 15] = 0;
  return offset + END_REQUEST_LEN;
}

/** An FCGI_END_REQUEST record on its own. */
export function encodeEndRequest(requestId: number, appStatus: number, protocolStatus: number): Buffer {
  const out = Buffer.allocUnsafe(END_REQUEST_LEN);
  writeEndRequest(out, 0, requestId, appStatus, protocolStatus);
  return out;
}

/** FCGI_UNKNOWN_TYPE for a management record we do not know. */
export function encodeUnknownType(type: number): Buffer {
  const body = Buffer.alloc(8);
  body[0] = type;
  return encodeRecord(FCGI_UNKNOWN_TYPE, 0, body);
}

/** A record as the reader hands it on. `content` is a view into the socket data: copy it to keep it long. */
export interface RawRecord {
  type: number;
  requestId: number;
  content: Buffer;
}

const NO_CONTENT = Buffer.alloc(0);

/** Why the reader stopped: the text of a TSGI_ERR_PROTOCOL log line. */
export class RecordError extends Error {}

/**
 * Splits a byte stream into records. Bytes arrive in arbitrary pieces; a record is handed on only when
 * whole (at most 8 + 65535 + 255 bytes, so the buffering here is bounded by the protocol, not by a peer's
 * claims). Pieces are concatenated once per record, never once per piece.
 */
export class RecordReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /**
   * Feed bytes; calls `onRecord` for each complete record, in order. `onRecord` returns false to stop (the
   * connection is being torn down); then the rest is dropped. Throws RecordError on a bad header.
   */
  push(data: Buffer, onRecord: (rec: RawRecord) => boolean): void {
    let buf: Buffer;
    if (this.buffered === 0) buf = data;
    else {
      this.chunks.push(data);
      this.buffered += data.length;
      if (this.buffered < this.needed()) return;
      buf = Buffer.concat(this.chunks, this.buffered);
      this.chunks = [];
      this.buffered = 0;
    }
    let pos = 0;
    const end = buf.length;
    while (end - pos >= HEADER_LEN) {
      if (buf[pos] !== FCGI_VERSION_1) throw new RecordError(`unsupported FastCGI version ${buf[pos]} (only 1 exists)`);
      const contentLength = (buf[pos + 4] << 8) | buf[pos + 5];
      const total = HEADER_LEN + contentLength + buf[pos + 6];
      if (end - pos < total) break;
      const rec: RawRecord = {
        type: buf[pos + 1],
        requestId: (buf[pos + 2] << 8) | buf[pos + 3],
        // Half the records of a request are empty (end of PARAMS, end of STDIN): no view to make for them.
        content: contentLength === 0 ? NO_CONTENT : buf.subarray(pos + HEADER_LEN, pos + HEADER_LEN + contentLength),
      };
      pos += total;
      if (!onRecord(rec)) return;
    }
    if (pos < end) {
      const rest = buf.subarray(pos);
      if (rest[0] !== FCGI_VERSION_1) throw new RecordError(`unsupported FastCGI version ${rest[0]} (only 1 exists)`);
      this.chunks.push(rest);
      this.buffered = rest.length;
    }
  }

  /** Bytes needed before the first buffered record is complete (8 while the header itself is partial). */
  private needed(): number {
    if (this.buffered < HEADER_LEN) return HEADER_LEN;
    const head = this.chunks.length === 1 || this.chunks[0].length >= HEADER_LEN ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    return HEADER_LEN + ((head[4] << 8) | head[5]) + head[6];
  }

  /** Bytes held for an incomplete record. */
  get pending(): number {
    return this.buffered;
  }
}
