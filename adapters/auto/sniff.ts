/**
 * Which protocol a connection speaks, from its first bytes. Each protocol the auto front serves opens in a
 * way no other can:
 *
 * - FastCGI: a record header, version byte 0x01, then the type FCGI_BEGIN_REQUEST (1) or, for a
 *   management record, FCGI_GET_VALUES (9): the only records a web server may send first;
 * - SCGI: ASCII digits, then ':' (the netstring length of the header block);
 * - HTTP/2 with prior knowledge (h2c): the 24-byte preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`;
 * - HTTP/1.x: a method token (RFC 9110 tchar) and a space;
 * - TLS: a handshake record, 0x16 0x03 (reported so the front can say why it refuses it).
 *
 * Pure and incremental: call it with everything read so far; `more` means "not decided yet".
 */

/** The verdict on the bytes seen so far. */
export type Sniffed = 'fastcgi' | 'scgi' | 'http1' | 'http2' | 'tls' | 'unknown' | 'more';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** Longest method token accepted before the space (the longest registered method is 17 bytes). */
const MAX_METHOD = 20;
/** Longest SCGI netstring length accepted before ':' (the SCGI parser enforces its own, lower limit). */
const MAX_LENGTH_DIGITS = 10;

/** The most bytes sniffProtocol ever needs to decide. */
export const SNIFF_MAX_BYTES = H2_PREFACE.length;

// RFC 9110 5.6.2 tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Classify a connection by the bytes read from it so far. */
export function sniffProtocol(buf: Buffer): Sniffed {
  if (buf.length === 0) return 'more';
  const b0 = buf[0];
  if (b0 === 0x01) {
    if (buf.length < 2) return 'more';
    return buf[1] === 1 || buf[1] === 9 ? 'fastcgi' : 'unknown';
  }
  if (b0 === 0x16) {
    if (buf.length < 2) return 'more';
    return buf[1] === 0x03 ? 'tls' : 'unknown';
  }
  if (isDigit(b0)) {
    for (let i = 1; i < buf.length; i++) {
      if (buf[i] === 58 /* : */) return 'scgi';
      if (!isDigit(buf[i]) || i >= MAX_LENGTH_DIGITS) return 'unknown';
    }
    return 'more';
  }
  if (b0 === 0x50 /* P */) {
    const n = Math.min(buf.length, H2_PREFACE.length);
    if (buf.compare(H2_PREFACE, 0, n, 0, n) === 0) return n === H2_PREFACE.length ? 'http2' : 'more';
    // Not the preface: maybe an HTTP/1 method starting with P (POST, PUT, PATCH...), checked below.
  }
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x20) return i > 0 ? 'http1' : 'unknown';
    if (TCHAR[c] !== 1 || i >= MAX_METHOD) return 'unknown';
  }
  return 'more';
}
