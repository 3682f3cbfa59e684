/**
 * FastCGI name-value pairs (specification section 3.4): the body of FCGI_PARAMS and FCGI_GET_VALUES.
 * Each length is one byte (< 128) or four bytes with the top bit set (up to 2^31 - 1). Lengths come from
 * the peer, so they are checked against the bytes actually present before anything is sliced; nothing is
 * ever allocated from a length.
 */
import type { CgiVars } from '../../app-api/types.js';
import { decodeUtf8Var, removedFromGateway, UTF8_CGI_VARS } from '../../gateway/environ.js';
import { RecordError } from './records.js';


/** A PARAMS value that cannot become text: answered 400, not a protocol error (the framing was fine). */
export class ParamEncodingError extends Error {}

// Buffer#latin1Slice is what toString('latin1', a, b) ends in, minus the argument checks and encoding
// lookup. Fall back if a runtime lacks it.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Buffer, start: number, end: number) => string }).latin1Slice;

/**
 * Interned param strings. A web server sends the same ~20-30 names, and mostly the same values
 * (GATEWAY_INTERFACE, SERVER_PROTOCOL, REQUEST_METHOD, SERVER_ADDR, HTTP_HOST...), on every request: turning
 * each into a new string was a third of the front's CPU time. Short byte runs are hashed into a
 * direct-mapped table (a slot per hash value, no Map: the Map lookup was 15% of parsing) that keeps each
 * slot's string and its bytes; when the bytes are exactly the same the string is reused, otherwise the
 * slot gets the new one. Fixed size, so a peer sending random names cannot grow it.
 */
const INTERN_MAX_LEN = 64;
const INTERN_SLOTS = 4096; // a power of two
const interned: string[] = new Array<string>(INTERN_SLOTS).fill('');
// The bytes of each slot's string, INTERN_MAX_LEN per slot: comparing two byte arrays is cheaper than charCodeAt.
const internedBytes = new Uint8Array(INTERN_SLOTS * INTERN_MAX_LEN);

function latin1(buf: Buffer, start: number, end: number, isName = false): string {
  const len = end - start;
  if (len === 0) return '';
  if (len > INTERN_MAX_LEN) return latin1Slice !== undefined ? latin1Slice.call(buf, start, end) : buf.toString('latin1', start, end);
  let h = len;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + buf[i]) | 0;
  const slot = (h ^ (h >>> 15)) & (INTERN_SLOTS - 1);
  const hit = interned[slot];
  const at = slot * INTERN_MAX_LEN;
  if (hit.length === len) {
    let i = 0;
    while (i < len && internedBytes[at + i] === buf[start + i]) i++;
    if (i === len) return hit;
  }
  let str = latin1Slice !== undefined ? latin1Slice.call(buf, start, end) : buf.toString('latin1', start, end);
  if (isName) str = internalize(str);
  interned[slot] = str;
  internedBytes.set(buf.subarray(start, end), at);
  return str;
}

/**
 * V8's internalized copy of `s` (the one property keys use), through a one-key object: names become
 * environ keys, and an internalized key is stored without a string-table lookup per request (measured:
 * -2% of the instructions of a FastCGI request). Names only (values are not keys), on a cache miss.
 */
function internalize(s: string): string {
  const o: Record<string, number> = { [s]: 0 };
  for (const k in o) return k;
  return s;
}

/**
 * The one byte -> string rule for FastCGI params (SCGI and CGI fronts should use the same):
 * - the decoded-path variables (SCRIPT_NAME, PATH_INFO, PATH_TRANSLATED) are UTF-8, strictly, as
 *   gateway/environ.ts treats decoded paths;
 * - everything else (names, REQUEST_URI, QUERY_STRING, HTTP_* header values, ...) is Latin-1, one char
 *   per byte: lossless, and what Node's HTTP parser gives the HTTP front for the request target and header
 *   values, so an app sees the same string for the same bytes whichever front it runs behind. Those values
 *   are percent-encoded ASCII in practice; raw high bytes survive and can be recovered with
 *   `Buffer.from(s, 'latin1')`.
 */
export function paramText(name: string, bytes: Buffer, start = 0, end = bytes.length): string {
  if (UTF8_CGI_VARS.has(name)) {
    for (let i = start; i < end; i++) {
      if (bytes[i] > 0x7f) {
        const text = decodeUtf8Var(bytes.subarray(start, end));
        if (text === null) throw new ParamEncodingError(`${name} is not valid UTF-8`);
        return text;
      }
    }
    // ASCII: Latin-1 and UTF-8 agree.
  }
  return latin1(bytes, start, end);
}

/**
 * Parse name-value pairs into an object of strings (the paramText rule). Repeated HTTP_* names are request
 * headers sent once per header line (nginx before 1.23 does this): joined with ", " ("; " for Cookie), as the
 * HTTP front joins them. Any other repeated name is a configuration override and the later one wins, as
 * PHP-FPM does, so a `fastcgi_param` in a location overrides the one from an include. Variables that
 * gateway/environ.ts `cgiFromGateway` removes (empty CONTENT_LENGTH, HTTP_PROXY...: `removedFromGateway`)
 * are left out, so the object keeps V8's fast properties.
 * Throws RecordError when a length runs past the data (the whole stream is then distrusted), and
 * ParamEncodingError for a path variable that is not UTF-8.
 */
export function parseParams(buf: Buffer): CgiVars {
  const out: CgiVars = {};
  let pos = 0;
  const end = buf.length;
  while (pos < end) {
    // Lengths: one byte below 128, else four bytes with the top bit set (up to 2^31 - 1).
    let nameLen = buf[pos];
    if (nameLen < 0x80) pos += 1;
    else {
      if (pos + 4 > end) throw new RecordError('name-value pair truncated in a 4-byte length');
      nameLen = (nameLen & 0x7f) * 0x1000000 + (buf[pos + 1] << 16) + (buf[pos + 2] << 8) + buf[pos + 3];
      pos += 4;
    }
    if (pos >= end) throw new RecordError('name-value pair truncated in its length');
    let valueLen = buf[pos];
    if (valueLen < 0x80) pos += 1;
    else {
      if (pos + 4 > end) throw new RecordError('name-value pair truncated in a 4-byte length');
      valueLen = (valueLen & 0x7f) * 0x1000000 + (buf[pos + 1] << 16) + (buf[pos + 2] << 8) + buf[pos + 3];
      pos += 4;
    }
    // Compare against what is present before slicing: a 2^31 length is just "too long" here.
    if (nameLen > end - pos || valueLen > end - pos - nameLen) {
      throw new RecordError(`name-value pair claims ${nameLen} + ${valueLen} bytes, only ${end - pos} remain`);
    }
    if (nameLen === 0) throw new RecordError('name-value pair with an empty name');
    const name = latin1(buf, pos, pos + nameLen, true);
    pos += nameLen;
    const value = paramText(name, buf, pos, pos + valueLen);
    pos += valueLen;
    const prev = out[name];
    if (removedFromGateway(name, value)) {
      // Left out here rather than deleted later by cgiFromGateway: see removedFromGateway. A repeat removes
      // an earlier value too, as "the later one wins" then cgiFromGateway's delete would.
      if (prev !== undefined) delete out[name];
    } else if (prev === undefined) out[name] = value;
    else if (name.startsWith('HTTP_')) out[name] = prev + (name === 'HTTP_COOKIE' ? '; ' : ', ') + value; // nginx < 1.23 sends one pair per header line
    else out[name] = value;
  }
  return out;
}

/** Encode name-value pairs (GET_VALUES_RESULT; test clients). Names and values are Latin-1 strings. */
export function encodeParams(pairs: Iterable<readonly [string, string | Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of pairs) {
    const n = Buffer.from(name, 'latin1');
    const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
    parts.push(encodeLength(n.length), encodeLength(v.length), n, v);
  }
  return Buffer.concat(parts);
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE((n | 0x80000000) >>> 0, 0);
  return b;
}
