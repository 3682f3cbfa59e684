/**
 * The Host rule (RFC 9112 3.2), written once for every front: "A server MUST respond with a 400 (Bad
 * Request) status code to any request message that contains more than one Host header field line or a
 * Host header field with an invalid field value." The HTTP front sees the header lines and counts them
 * (adapters/http/request-rules.ts); a gateway peer (FastCGI, SCGI, CGI) that got two Host lines passes them
 * joined as one HTTP_HOST ("a, b"), which this syntax check refuses, so the same request is a 400 behind
 * every front.
 */

/**
 * `uri-host [ ":" port ]` of RFC 3986: an IP literal in brackets, or a reg-name / IPv4 address made of
 * unreserved characters, sub-delims and %-escapes; then an optional port. No space, `/`, `@`, `?`, `#` or
 * control character, so a joined pair of Host values ("a, b") or a smuggled path never passes.
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?$/;

/**
 * The last value found valid. A server sees the same Host on request after request, and comparing a short
 * string with the last one is cheaper than running the expression again (the expression was 0.8% of an
 * SCGI hello-world request and 1.2% of one on the built-in server, in perf samples).
 */
let lastValid = '';

/** True when `value` is a valid Host field value (empty is valid: a target without an authority). */
export function isValidHost(value: string): boolean {
  if (value === lastValid) return true;
  if (!HOST.test(value)) return false;
  lastValid = value;
  return true;
}
