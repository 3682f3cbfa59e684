/**
 * Saying no, the same way on every front. Two kinds:
 *
 * - `refuseRequest`: a request the gateway answers itself before the app runs (a path that is not UTF-8,
 *   outside the mount point, a bad CONTENT_LENGTH...). The framing was fine, so the client gets a status
 *   (the TsgiError's), a short text body, and the connection goes on; one log line names the request, the
 *   peer and the TSGI_ERR_* code.
 * - `refuseConnection`: bytes that break the protocol (framing, a timeout mid-head, an unknown protocol).
 *   Nothing can be answered safely, so one TSGI_ERR_PROTOCOL line is logged and that connection is closed;
 *   the process goes on serving the others.
 */
import type { Socket } from 'node:net';
import { TsgiError } from '../app-api/errors.js';
import type { ErrorLog } from '../gateway/core/log.js';
import type { ResponseSink } from '../gateway/core/sink.js';

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

/** What a refused request was, for the log line. */
export interface RefusedRequest {
  /** `SCGI request GET /x`, `FastCGI request 3`...: the front and what is known of the request. */
  what: string;
  /** The peer, as the front names it in its log lines. */
  peer: string;
  /** The status when `err` is not a TsgiError (default 400: the peer sent something unusable). */
  status?: number;
}

/**
 * Answer a request with the status of `err` (a TsgiError's `status`; else `req.status` or 400) and its
 * reason phrase as a text/plain body, through any ResponseSink; log it once. Returns the status sent.
 */
export function refuseRequest(sink: ResponseSink, log: ErrorLog, err: unknown, req: RefusedRequest): number {
  const status = err instanceof TsgiError ? err.status : (req.status ?? 400);
  const code = err instanceof TsgiError ? err.code : status < 500 ? 'TSGI_ERR_BAD_REQUEST' : undefined;
  const message = err instanceof Error ? err.message : String(err);
  log.log(status >= 500 ? 'error' : 'warn', `refused ${req.what} from ${req.peer} with ${status}: ${message}${code === undefined ? '' : ` (${code})`}`);
  const reason = REASONS[status] ?? 'Error';
  const text = Buffer.from(reason + '\n');
  sink.start(status, reason, [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(text.length)],
  ]);
  sink.end(text);
  return status;
}

/** Log one TSGI_ERR_PROTOCOL line (`problem from peer; connection closed`) and destroy `socket`. */
export function refuseConnection(socket: Socket, log: ErrorLog, problem: string, peer: string, level: 'error' | 'warn' = 'error'): void {
  log.log(level, `${problem} from ${peer}; connection closed (TSGI_ERR_PROTOCOL)`);
  socket.destroy();
}
