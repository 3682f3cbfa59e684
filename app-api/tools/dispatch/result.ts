/**
 * Turning what a handler returned into a response, so handlers can be as short as CherryPy's: a string is a
 * `200 text/html; charset=utf-8` page (CherryPy's default type), bytes are `application/octet-stream`,
 * undefined is `204 No Content`; anything else is an error (no guessing at JSON). A handler that called
 * startResponse itself returns its body as it is (an iterable of chunks, or a string/bytes for one chunk).
 */
import { tsgiError } from '../../errors.js';
import type { Body, StartResponse } from '../../types.js';

/** Send `value` as the response; `started`: the handler already called startResponse. */
export function toResponse(value: unknown, started: boolean, startResponse: StartResponse): Body {
  if (started) {
    if (value === undefined || value === null) return [];
    if (typeof value === 'string' || value instanceof Uint8Array) return [value];
    return value as Body;
  }
  if (typeof value === 'string') {
    startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8']]);
    return [value];
  }
  if (value instanceof Uint8Array) {
    startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
    return [value];
  }
  if (value === undefined || value === null) {
    startResponse('204 No Content', []);
    return [];
  }
  throw tsgiError('TSGI_ERR_BAD_BODY', { problem: `a dispatched handler returned ${typeof value}, not a string, bytes, nothing, or a body after ctx.startResponse` });
}

/** A plain-text error response. */
export function textResponse(startResponse: StartResponse, status: string, text: string, extra: [string, string][] = []): Body {
  startResponse(status, [['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(Buffer.byteLength(text))], ...extra]);
  return [text];
}
