/**
 * The SCGI request head parser (Neil Schemenauer's protocol.txt, 2008): a netstring
 * `len:name\0value\0...,` followed by exactly CONTENT_LENGTH body bytes.
 *
 * Our own code: there is no maintained SCGI package on npm (the few that exist are unmaintained and lax),
 * and the protocol is small enough that a strict parser is shorter than an audit of someone else's.
 *
 * Strict on purpose: every deviation is a TSGI_ERR_PROTOCOL error that closes the connection, because a
 * lenient SCGI parser is how request smuggling between a proxy and the app starts (a proxy and the app
 * disagreeing on where a request ends). Rules, each with its own message:
 * - the length is ASCII decimal without a leading zero, followed by `:`, and at most `maxHeaderBytes`;
 * - the block is followed by `,`;
 * - the block is an even number of NUL-terminated strings (name, value, name, value...), names not empty;
 * - the first name is CONTENT_LENGTH, its value a non-empty decimal without leading zeros;
 * - SCGI is present with the value 1;
 * - no name other than HTTP_* appears twice (a second CONTENT_LENGTH, SCGI or REQUEST_METHOD is how a proxy
 *   and the app come to disagree about a request). A repeated HTTP_* name is a request header sent once per
 *   header line (nginx <= 1.22 does this): joined by default, as the FastCGI front and the HTTP front do.
 */
import { tsgiError, TsgiError } from '../../app-api/errors.js';
import { joinRepeatedVar } from '../../gateway/core/environ.js';
import { latin1Text, markName, newNameSet } from '../latin1-text.js';

/** Default limit of the header block (the netstring payload), in bytes. */
export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;

/** A parsed SCGI request head. */
export interface ScgiHead {
  /**
   * The headers in the order sent (after the keys the `newHeaders` object starts with), names and values
   * read as Latin-1 (byte-preserving), without those the parser's `keep` filter left out. A plain object,
   * not a Map: it becomes the request's CGI variables and then its environ without a copy (the Map and the
   * copy were ~10% of the SCGI front's CPU).
   */
  headers: Record<string, string>;
  /** CONTENT_LENGTH as a number. */
  contentLength: number;
  /** Bytes of the input the head took (length prefix + ':' + block + ','). */
  consumed: number;
}

function protocolError(problem: string): TsgiError {
  return tsgiError('TSGI_ERR_PROTOCOL', { protocol: 'SCGI', problem }, { status: 400 });
}

const DIGITS_CL = /^(?:0|[1-9][0-9]{0,14})$/;

/** Which headers go into `ScgiHead.headers`; those left out are still checked (first, duplicates, SCGI=1). */
export type KeepHeader = (name: string, value: string) => boolean;

const keepAll: KeepHeader = () => true;

/** Makes the object the headers are stored into (see parseBlock's `into`). */
export type NewHeaders = () => Record<string, string>;
const plainObject: NewHeaders = () => ({});
const EMPTY = Buffer.alloc(0);
const hasOwn = Object.prototype.hasOwnProperty;
/** An own key with a value: a CgiObject's standard keys exist, as `undefined`, before they are set. */
const has = (o: Record<string, string>, name: string): boolean => hasOwn.call(o, name) && o[name] !== undefined;

/**
 * Incremental head parser: feed it chunks as they arrive; it answers `null` until the head is complete,
 * then the head and the bytes after it (the start of the body). Throws TsgiError TSGI_ERR_PROTOCOL as soon
 * as the bytes seen so far cannot start a valid head, so a bad peer is dropped without waiting for more.
 * Chunks are only concatenated once the full head is in, so a peer dripping one byte at a time costs O(n).
 */
export class ScgiHeadParser {
  private readonly chunks: Buffer[] = [];
  private have = 0;
  /** Digits of the length prefix seen so far (the prefix is at most a few bytes: kept apart). */
  private prefix = '';
  /** Total head size (prefix + ':' + block + ','), known once ':' was seen. */
  private need = -1;
  private blockLength = -1;

  /**
   * @param maxHeaderBytes limit of the header block.
   * @param joinHttpDuplicates see `ScgiConnectionOptions.joinDuplicateHttpHeaders`.
   * @param keep which headers to keep in the parsed head (default all).
   */
  /** @param newHeaders makes the object the headers go into (default `{}`; see parseBlock's `into`). */
  constructor(private readonly maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES, private readonly joinHttpDuplicates = true, private readonly keep: KeepHeader = keepAll, private readonly newHeaders: NewHeaders = plainObject) {}

  /** Feed bytes. Returns null while incomplete; else the head and the bytes that follow it. */
  push(chunk: Buffer): { head: ScgiHead; rest: Buffer } | null {
    let start = 0;
    if (this.need < 0) {
      // Still in the length prefix: validate byte by byte, so garbage is refused at its first byte.
      for (; start < chunk.length; start++) {
        const c = chunk[start];
        if (c === 58 /* : */) {
          if (this.prefix === '') throw protocolError('the netstring length is empty (the request must start with digits and ":")');
          this.blockLength = Number(this.prefix);
          this.need = this.prefix.length + 1 + this.blockLength + 1;
          start++;
          break;
        }
        if (c < 48 || c > 57) {
          throw protocolError(this.prefix === '' ? `the request does not start with a netstring length (first byte 0x${c.toString(16).padStart(2, '0')})` : `non-digit byte 0x${c.toString(16).padStart(2, '0')} in the netstring length, or the ':' after it is missing`);
        }
        if (this.prefix === '0') throw protocolError('the netstring length has a leading zero');
        this.prefix += String.fromCharCode(c);
        if (Number(this.prefix) > this.maxHeaderBytes) {
          // Well framed so far, only too large: the connection answers 431 (Status: line) rather than just closing.
          throw tsgiError('TSGI_ERR_HEADERS_TOO_LARGE', { problem: `SCGI: the header block is over the limit of ${this.maxHeaderBytes} bytes (netstring length ${this.prefix}..., limitParamsSize)` });
        }
      }
      if (this.need < 0) return null;
      if (this.blockLength === 0) throw protocolError('the header block is empty (CONTENT_LENGTH and SCGI are required)');
      this.have = this.prefix.length + 1;
    }
    const tail = start === 0 ? chunk : chunk.subarray(start);
    if (tail.length > 0) {
      this.chunks.push(tail);
      this.have += tail.length;
    }
    if (this.have < this.need) return null;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks.length = 0;
    const blockEnd = this.blockLength;
    if (all[blockEnd] !== 44 /* , */) throw protocolError(`the ',' after the ${this.blockLength}-byte header block is missing (got 0x${all[blockEnd].toString(16).padStart(2, '0')})`);
    const head = parseBlock(all.subarray(0, blockEnd), this.joinHttpDuplicates, this.keep, 0, blockEnd, this.newHeaders());
    head.consumed = this.need;
    return { head, rest: all.subarray(blockEnd + 1) };
  }
}

/**
 * The common case without an incremental parser: `chunk` starts with a whole, well-framed head (nginx,
 * Apache and lighttpd write the head in one write, and it arrives in the connection's first read). Returns
 * the head and the bytes after it, or null when the chunk does not start with a complete head whose length
 * prefix and ',' are well formed: then feed the chunk to an ScgiHeadParser, which waits for more or throws
 * the error that names the problem. The block itself is checked as ScgiHeadParser checks it (parseBlock
 * throws). Why: a parser object, its chunk list and a prefix read one digit at a time, per connection
 * (measured with the one-buffer response of sink.ts: -2.6% of the instructions of a hello-world request).
 */
export function parseWholeHead(chunk: Buffer, maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES, joinHttpDuplicates = true, keep: KeepHeader = keepAll, newHeaders: NewHeaders = plainObject): { head: ScgiHead; rest: Buffer } | null {
  const n = chunk.length;
  // No leading zero and at most 15 digits (more is over any limit): anything else is the parser's to report.
  if (n === 0 || chunk[0] === 48 /* 0 */) return null;
  let blockLength = 0;
  let colon = 0;
  for (; colon < n && colon < 16; colon++) {
    const c = chunk[colon];
    if (c === 58 /* : */) break;
    if (c < 48 || c > 57) return null;
    blockLength = blockLength * 10 + (c - 48);
  }
  if (colon === 0 || colon >= n || chunk[colon] !== 58 || blockLength > maxHeaderBytes) return null;
  const blockEnd = colon + 1 + blockLength;
  if (blockEnd >= n || chunk[blockEnd] !== 44 /* , */) return null;
  const head = parseBlock(chunk, joinHttpDuplicates, keep, colon + 1, blockEnd, newHeaders());
  head.consumed = blockEnd + 1;
  // No view of the chunk when nothing follows the head (a GET): each Buffer view is an object to collect.
  return { head, rest: blockEnd + 1 === n ? EMPTY : chunk.subarray(blockEnd + 1) };
}

/**
 * Parse the netstring payload: `name\0value\0...`. With `joinHttpDuplicates` (the default), a repeated
 * HTTP_* name is joined with ', ' ('; ' for HTTP_COOKIE) as an HTTP server joins repeated header lines (the
 * rule of adapters/fastcgi/params.ts); with it off, a repeated HTTP_* name is refused. Any other repeated
 * name is always refused. Headers `keep` answers false for are checked like the others but left out of the
 * result (a front leaves out what it would delete later: a delete makes the object a slow dictionary).
 * The block is `block[start, end)` (all of it by default: the one-read path passes the chunk, not a view of it).
 * `into` is the object the headers are stored into: the SCGI front passes a gateway/core/cgi-object.ts
 * CgiObject, whose own keys with the value `undefined` (the standard variables before they are set) count
 * as absent here.
 */
export function parseBlock(block: Buffer, joinHttpDuplicates = true, keep: KeepHeader = keepAll, start = 0, end = block.length, into: Record<string, string> = {}): ScgiHead {
  if (end === start || block[end - 1] !== 0) throw protocolError('the header block does not end with NUL (an odd number of strings, or a truncated value)');
  const headers = into;
  let dropped: string[] | undefined; // names left out by `keep`, still counted for the duplicate rule
  let scgi: string | undefined;
  let contentLength = 0;
  // Strings through latin1Text: the names and most values are the same bytes on every request, and reusing
  // their strings (names interned as property keys) halves the parse; a Buffer.indexOf and a toString per
  // string, each a call into C++, were ~13% of the SCGI front's CPU.
  let pos = start;
  let first = true;
  newNameSet();
  while (pos < end) {
    let nameEnd = pos;
    while (block[nameEnd] !== 0) nameEnd++; // the block ends with NUL (checked above): no bounds test needed
    if (nameEnd === pos) throw protocolError('the header block has an empty header name');
    if (nameEnd === end - 1) throw protocolError('the header block has an odd number of NUL-terminated strings (a name without a value)');
    let valueEnd = nameEnd + 1;
    while (block[valueEnd] !== 0) valueEnd++;
    const name = latin1Text(block, pos, nameEnd, true);
    const fresh = markName(); // before the value's latin1Text
    const value = latin1Text(block, nameEnd + 1, valueEnd);
    pos = valueEnd + 1;
    if (first) {
      if (name !== 'CONTENT_LENGTH') throw protocolError(`CONTENT_LENGTH must be the first header (got ${JSON.stringify(name.slice(0, 64))})`);
      if (value !== '0' && !DIGITS_CL.test(value)) throw protocolError(`CONTENT_LENGTH ${JSON.stringify(value.slice(0, 64))} is not a decimal number without leading zeros`);
      contentLength = Number(value);
      first = false;
    }
    if (name === 'SCGI' && scgi === undefined) scgi = value;
    // hasOwn, not `headers[name] !== undefined`: a name like "constructor" is not a duplicate of Object.prototype's.
    if (!fresh && (has(headers, name) || (dropped !== undefined && dropped.includes(name)))) {
      if (!joinHttpDuplicates || !name.startsWith('HTTP_')) throw protocolError(`duplicate header ${JSON.stringify(name.slice(0, 64))}`);
      if (has(headers, name)) headers[name] = joinRepeatedVar(name, headers[name], value);
      continue;
    }
    if (name === '__proto__') throw protocolError('a header named "__proto__"'); // an assignment would set the object's prototype
    if (keep(name, value)) headers[name] = value;
    else (dropped ??= []).push(name);
  }
  if (scgi !== '1') throw protocolError(scgi === undefined ? 'the SCGI header is missing (it must be "1")' : `SCGI header is ${JSON.stringify(scgi.slice(0, 64))}, must be "1"`);
  return { headers, contentLength, consumed: 0 };
}

/**
 * Encode an SCGI request head (CONTENT_LENGTH first, then SCGI=1, then `vars` in order): for clients and
 * tests. Pass pairs when the order matters (object keys that look like integers are ordered first by JS).
 */
export function encodeScgiHead(contentLength: number, vars: Record<string, string> | ReadonlyArray<readonly [string, string]> = {}): Buffer {
  const parts: string[] = ['CONTENT_LENGTH', String(contentLength), 'SCGI', '1'];
  for (const [k, v] of Array.isArray(vars) ? vars : Object.entries(vars)) {
    if (k === 'CONTENT_LENGTH' || k === 'SCGI') continue;
    parts.push(k, v);
  }
  const block = Buffer.from(parts.join('\0') + '\0', 'latin1');
  return Buffer.concat([Buffer.from(`${block.length}:`, 'latin1'), block, Buffer.from(',', 'latin1')]);
}
