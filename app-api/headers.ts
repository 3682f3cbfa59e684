/**
 * Status line and response header validation: the one place where tsgi decides what an app may send.
 * Every front (HTTP, FastCGI, SCGI, CGI) goes through `validateResponse`, so a header that would inject a
 * line (CR/LF) or a NUL is refused the same way everywhere: the gateway answers 500 and sends nothing of it.
 */
import { STATUS_CODES } from 'node:http';
import { TsgiError, tsgiError } from './errors.js';
import type { HeaderList } from './types.js';

/** RFC 9110 token: what a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A field value: visible Latin-1, space and tab; never CR, LF or NUL (RFC 9110 5.5). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/**
 * `NNN reason`: three digits 200-599, a space, a reason phrase without CR/LF/NUL (may be empty). 1xx are
 * interim responses the server owns (100-continue); an app cannot make one its final answer.
 */
const STATUS = /^([2-5]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

/** A validated status: numeric code and reason phrase (the standard one when the app sent none). */
export interface ParsedStatus {
  code: number;
  reason: string;
}

// Apps send a handful of distinct status lines; each is parsed once. Bounded, so an app that makes up
// reason phrases cannot grow it. The parsed objects are shared: frozen, read by every caller.
const parsedStatuses = new Map<string, Readonly<ParsedStatus>>();
const PARSED_STATUS_MAX = 256;

/** Parse and check a status line such as `"200 OK"`. Throws TSGI_ERR_BAD_STATUS. */
export function parseStatus(status: unknown): Readonly<ParsedStatus> {
  if (typeof status !== 'string') {
    throw tsgiError('TSGI_ERR_BAD_STATUS', { status: `of type ${typeof status}` });
  }
  const known = parsedStatuses.get(status);
  if (known !== undefined) return known;
  const m = STATUS.exec(status);
  if (m === null) {
    throw tsgiError('TSGI_ERR_BAD_STATUS', { status: JSON.stringify(status) });
  }
  const code = +m[1];
  // A status without a reason phrase ("200", "200 "): the lint refuses it, the server does not. Every
  // front then sends the standard phrase (Node's table, the one its HTTP writer uses; "Unknown" for a code
  // it has none for), so HTTP/1.1, FastCGI, SCGI and CGI answer the same `200 OK` (a CGI Status line needs
  // a reason phrase, RFC 3875 6.3.3).
  const reason = m[2] === undefined || m[2] === '' ? (STATUS_CODES[code] ?? 'Unknown') : m[2];
  const parsed = Object.freeze({ code, reason });
  if (parsedStatuses.size < PARSED_STATUS_MAX) parsedStatuses.set(status, parsed);
  return parsed;
}

// Header names already found to be valid tokens (and not Status): an app sends the same few names on every
// response. Bounded like parsedStatuses.
const goodNames = new Set<string>();
const GOOD_NAMES_MAX = 512;

/** Check one header pair. Throws TSGI_ERR_BAD_HEADER naming the header. */
export function checkHeader(header: unknown, index: number): void {
  if (!Array.isArray(header) || header.length !== 2) {
    throw tsgiError('TSGI_ERR_BAD_HEADER', { problem: `header #${index} must be a [name, value] pair of strings` });
  }
  const name: unknown = header[0];
  const value: unknown = header[1];
  if (typeof name !== 'string') {
    throw tsgiError('TSGI_ERR_BAD_HEADER', { problem: `header #${index} has an invalid name ${JSON.stringify(name)}: names are HTTP tokens` });
  }
  if (!goodNames.has(name)) checkName(name, index);
  if (typeof value !== 'string' || !FIELD_VALUE.test(value)) {
    throw tsgiError('TSGI_ERR_BAD_HEADER', { problem: `header ${name} has an invalid value ${JSON.stringify(value)}: no CR, LF, NUL or characters above U+00FF` });
  }
}

function checkName(name: string, index: number): void {
  if (!TOKEN.test(name)) {
    throw tsgiError('TSGI_ERR_BAD_HEADER', { problem: `header #${index} has an invalid name ${JSON.stringify(name)}: names are HTTP tokens` });
  }
  if (name.length === 6 && name.toLowerCase() === 'status') {
    // A CGI-style Status header would silently replace the real status behind CGI/FastCGI/SCGI fronts.
    throw tsgiError('TSGI_ERR_BAD_HEADER', { problem: 'a Status header is not allowed: pass the status as the first argument of startResponse' });
  }
  if (goodNames.size < GOOD_NAMES_MAX) goodNames.add(name);
}

/** Check the whole header list. Throws TSGI_ERR_BAD_HEADER. */
export function checkHeaders(headers: unknown): asserts headers is HeaderList {
  if (!Array.isArray(headers)) {
    throw tsgiError('TSGI_ERR_BAD_HEADER', { problem: 'headers must be an array of [name, value] pairs' });
  }
  for (let i = 0; i < headers.length; i++) checkHeader(headers[i], i);
}

/**
 * Hop-by-hop headers (RFC 9110 7.6.1). The app must not send them (the lint says so); the gateway owns the
 * connection and the framing, so it drops them on every protocol (as a proxy must, RFC 9110 7.6.1).
 */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** Find a header value by case-insensitive name (first match), or undefined. */
export function findHeader(headers: HeaderList, lowerName: string): string | undefined {
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    if (h[0].length === lowerName.length && h[0].toLowerCase() === lowerName) return h[1];
  }
  return undefined;
}
