/**
 * FastCGI name-value pairs (specification section 3.4): the body of FCGI_PARAMS and FCGI_GET_VALUES.
 * Each length is one byte (< 128) or four bytes with the top bit set (up to 2^31 - 1). Lengths come from
 * the peer, so they are checked against the bytes actually present before anything is sliced; nothing is
 * ever allocated from a length.
 */
import type { CgiVars } from '../../app-api/types.js';
import { RecordError } from './records.js';

/**
 * Variables whose value is a percent-DECODED path: the web server decoded `%xx` into raw bytes (nginx's
 * $fastcgi_script_name / $fastcgi_path_info, Apache's PATH_INFO). gateway/environ.ts reads decoded paths as
 * UTF-8 on every front (the HTTP front runs decodeURIComponent, which is UTF-8 and refuses bad sequences),
 * so these are decoded as UTF-8 here too, strictly: invalid UTF-8 is refused, never replaced by U+FFFD.
 */
const UTF8_PATH_VARS = new Set(['SCRIPT_NAME', 'PATH_INFO', 'PATH_TRANSLATED']);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A PARAMS value that cannot become text: answered 400, not a protocol error (the framing was fine). */
export class ParamEncodingError extends Error {}

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
export function paramText(name: string, bytes: Buffer): string {
  if (UTF8_PATH_VARS.has(name)) {
    // ASCII fast path: latin1 and UTF-8 agree.
    let ascii = true;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) return bytes.toString('latin1');
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw new ParamEncodingError(`${name} is not valid UTF-8`);
    }
  }
  return bytes.toString('latin1');
}

/** Read one length at `pos`; returns [length, next position]. Throws RecordError when truncated. */
function readLength(buf: Buffer, pos: number): [number, number] {
  if (pos >= buf.length) throw new RecordError('name-value pair truncated in its length');
  const b = buf[pos];
  if (b < 0x80) return [b, pos + 1];
  if (pos + 4 > buf.length) throw new RecordError('name-value pair truncated in a 4-byte length');
  const n = ((b & 0x7f) * 0x1000000) + (buf[pos + 1] << 16) + (buf[pos + 2] << 8) + buf[pos + 3];
  return [n, pos + 4];
}

/**
 * Parse name-value pairs into an object of strings (the paramText rule). A later duplicate replaces an
 * earlier one, as PHP-FPM does, so a `fastcgi_param` in a location overrides the one from an include;
 * repeated HTTP_* params (one per header line) are joined instead.
 * Throws RecordError when a length runs past the data (the whole stream is then distrusted), and
 * ParamEncodingError for a path variable that is not UTF-8.
 */
export function parseParams(buf: Buffer): CgiVars {
  const out: CgiVars = {};
  let pos = 0;
  const end = buf.length;
  while (pos < end) {
    let nameLen: number, valueLen: number;
    [nameLen, pos] = readLength(buf, pos);
    [valueLen, pos] = readLength(buf, pos);
    // Compare against what is present before slicing: a 2^31 length is just "too long" here.
    if (nameLen > end - pos || valueLen > end - pos - nameLen) {
      throw new RecordError(`name-value pair claims ${nameLen} + ${valueLen} bytes, only ${end - pos} remain`);
    }
    if (nameLen === 0) throw new RecordError('name-value pair with an empty name');
    const name = buf.toString('latin1', pos, pos + nameLen);
    pos += nameLen;
    const value = paramText(name, buf.subarray(pos, pos + valueLen));
    const prev = out[name];
    // nginx <= 1.22 and lighttpd send one HTTP_* param per request header line: join repeats as HTTP does
    // (RFC 9110 5.3; cookies with '; '), or `X-Multi: a` + `X-Multi: b` would reach the app as just 'b'.
    if (prev !== undefined && name.startsWith('HTTP_')) out[name] = prev + (name === 'HTTP_COOKIE' ? '; ' : ', ') + value;
    else out[name] = value;
    pos += valueLen;
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
