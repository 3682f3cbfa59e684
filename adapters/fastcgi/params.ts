/**
 * FastCGI name-value pairs (specification section 3.4): the body of FCGI_PARAMS and FCGI_GET_VALUES.
 * Each length is one byte (< 128) or four bytes with the top bit set (up to 2^31 - 1). Lengths come from
 * the peer, so they are checked against the bytes actually present before anything is sliced; nothing is
 * ever allocated from a length.
 */
import type { CgiVars } from '../../app-api/types.js';
import { decodeUtf8Var, joinRepeatedVar, removedFromGateway, UTF8_CGI_VARS } from '../../gateway/core/environ.js';
import { latin1Text as latin1, markName, newNameSet } from '../latin1-text.js';
import { RecordError } from './records.js';


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
 * are left out, so the object keeps V8's fast properties. `into`: the object to fill (FCGI_PARAMS: a
 * gateway/core/cgi-object.ts CgiObject, which has room for a browser's worth of variables).
 * Throws RecordError when a length runs past the data (the whole stream is then distrusted), and
 * ParamEncodingError for a path variable that is not UTF-8.
 */
export function parseParams(buf: Buffer, into: CgiVars = {}): CgiVars {
  const out = into;
  let pos = 0;
  const end = buf.length;
  newNameSet();
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
    const fresh = markName(); // before paramText: it calls latin1Text again
    pos += nameLen;
    const value = paramText(name, buf, pos, pos + valueLen);
    pos += valueLen;
    const prev = fresh ? undefined : out[name];
    if (removedFromGateway(name, value)) {
      // Left out here rather than deleted later by cgiFromGateway: see removedFromGateway. A repeat removes
      // an earlier value too, as "the later one wins" then cgiFromGateway's delete would.
      if (prev !== undefined) delete out[name];
    } else if (prev === undefined) out[name] = value;
    else if (name.startsWith('HTTP_')) out[name] = joinRepeatedVar(name, prev, value); // nginx < 1.23 sends one pair per header line
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
