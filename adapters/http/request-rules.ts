/**
 * The RFC 9110/9112 MUST-level refusals that Node's HTTP parser (llhttp, strict: tsgi never turns on
 * insecureHTTPParser) leaves to the server. llhttp already refuses CL+TE, repeated or signed Content-Length,
 * obfuscated Transfer-Encoding, bare CR/LF, obs-fold, NUL and control bytes, bad chunk sizes and extensions,
 * and never merges trailers into the headers. What it accepts and these rules refuse, before the app runs:
 *
 * - a version other than HTTP/1.0 and 1.1 on an HTTP/1 connection (`HTTP/2.0`, `HTTP/0.9`): 505;
 * - the asterisk-form target (`*`) with any method but OPTIONS (RFC 9112 3.2.4): 400;
 * - more than one Host line, or an invalid Host value (RFC 9112 3.2; the value rule is gateway/core/host.ts,
 *   which FastCGI, SCGI and CGI apply to HTTP_HOST): 400;
 * - two Content-Type lines that differ (RFC 9110 8.3, a singleton field; identical repeats are harmless): 400;
 * - Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.1: "MUST treat the message as if the framing is
 *   faulty"): 400.
 *
 * The front answers every one of these with `Connection: close`: the framing of what follows on the
 * connection cannot be trusted after a request the server and an intermediary may have read differently.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { tsgiError, TsgiError } from '../../app-api/errors.js';
import type { HttpRequestHead } from '../../gateway/core/environ.js';
import { isValidHost } from '../../gateway/core/host.js';

/** 400, the code's status, for every rule but an HTTP version this server does not speak (505, its own status). */
function bad(problem: string, status = 400): TsgiError {
  return tsgiError('TSGI_ERR_BAD_REQUEST', { problem }, { status });
}

/**
 * Check a request head Node parsed. `http2`: the request came over an HTTP/2 stream (its version is 2.0 and
 * it has no Transfer-Encoding; nghttp2 checked its pseudo-headers). Throws TsgiError TSGI_ERR_BAD_REQUEST
 * with the status to answer (400 or 505).
 */
export function checkHttpRequest(head: HttpRequestHead, http2: boolean): void {
  const version = head.httpVersion;
  if (!http2 && version !== '1.1' && version !== '1.0') {
    throw bad(`HTTP/${version.slice(0, 16)} is not supported on an HTTP/1 connection (HTTP/1.0 and 1.1 are)`, 505);
  }
  if (head.url === '*' && head.method !== 'OPTIONS') {
    throw bad(`the asterisk-form target "*" is only for OPTIONS, not ${head.method.slice(0, 32)} (RFC 9112 3.2.4)`);
  }
  const raw = head.rawHeaders;
  let hosts = 0;
  let contentType: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // Length first: most names are neither, and this skips the lower-casing for them.
    const len = name.length;
    if (len !== 4 && len !== 12 && len !== 17) continue;
    const lower = name.toLowerCase();
    const value = raw[i + 1];
    if (lower === 'host') {
      if (++hosts > 1) throw bad('more than one Host header (RFC 9112 3.2)');
      if (!isValidHost(value)) throw bad(`Host ${JSON.stringify(value.slice(0, 200))} is not a valid host[:port] (RFC 9112 3.2)`);
    } else if (lower === 'content-type') {
      if (contentType !== undefined && contentType !== value) throw bad('two different Content-Type headers (RFC 9110 8.3: a single value)');
      contentType = value;
    } else if (lower === 'transfer-encoding' && version === '1.0') {
      throw bad('Transfer-Encoding in an HTTP/1.0 request: faulty framing (RFC 9112 6.1)');
    }
  }
}

/**
 * The rules as a front applies them (the built-in server, toNode, the fastify plugin): HTTP/1 connections
 * that end after a refused request. Node may already have parsed what followed it on the connection (a
 * request pipelined behind a faulty body); that is not a request, and the app never sees it.
 */
export class RequestRules {
  // A mark on the socket, not a WeakSet: the set's hash lookup ran for every request of every connection.
  private readonly kRefused = Symbol('tsgi.http.refused');

  /** True when `req` came after a refused request on its HTTP/1 connection: leave it unanswered (the close ends it). */
  followsRefusal(req: IncomingMessage | Http2ServerRequest, http2: boolean): boolean {
    return !http2 && (req.socket as unknown as Record<symbol, boolean | undefined>)[this.kRefused] === true;
  }

  /** checkHttpRequest; on a refusal the HTTP/1 response gets `Connection: close` and its connection serves nothing more. Rethrows. */
  check(head: HttpRequestHead, req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse, http2: boolean): void {
    try {
      checkHttpRequest(head, http2);
    } catch (err) {
      if (!http2) {
        (res as ServerResponse).setHeader('Connection', 'close');
        (req.socket as unknown as Record<symbol, boolean>)[this.kRefused] = true;
      }
      throw err;
    }
  }
}
