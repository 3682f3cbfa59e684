/**
 * The ServerResponse of a bridged Node app. It is a real `http.ServerResponse` (so setHeader, getHeader,
 * removeHeader, appendHeader, headersSent, statusCode, 'finish', pipe() into it, and the monkey-patching that
 * helmet, compression and on-headers do all behave as on a socket), with two seams:
 *
 * - `writeHead` hands the status and the header list to tsgi's `startResponse` (the gateway validates and
 *   frames them; Node's own framing headers, Date and chunked coding, never reach it);
 * - `_send` / `_writeRaw`, where Node would put bytes on the socket, queue the body bytes for the gateway
 *   instead (ChunkQueue), without the head Node serialised for its own socket.
 *
 * The seams are own properties of the object, not a subclass: express replaces the prototype of every
 * response with its own (which inherits from ServerResponse.prototype), and a subclass's methods would be
 * lost with it. Node's 1xx interim responses and trailers cannot travel through a tsgi response and fail
 * with TSGI_ERR_BRIDGE_UNSUPPORTED.
 */
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { HeaderList, StartResponse } from '../types.js';
import type { ChunkQueue } from './chunk-queue.js';
import { statusLine } from './reason.js';
import { unsupported } from './unsupported.js';

type Callback = (err?: Error | null) => void;
type HeadersArg = OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined;

// Node internals the seams set; declared here so the code type-checks.
interface Internals {
  _headerSent: boolean;
  chunkedEncoding: boolean;
  useChunkedEncodingByDefault: boolean;
  getRawHeaderNames(): string[];
}

const proto = ServerResponse.prototype;
const nodeWriteHead = proto.writeHead as (this: ServerResponse, code: number, reason?: string) => ServerResponse;
const nodeEnd = proto.end as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
const nodeDestroy = proto.destroy as (this: ServerResponse, err?: Error) => ServerResponse;

/** Fold writeHead's headers argument into the header store, so headerList sees every header once. */
function mergeHeaders(res: ServerResponse, headers: NonNullable<HeadersArg>): void {
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as unknown as ReadonlyArray<readonly string[]>) res.appendHeader(pair[0], pair[1]);
    } else {
      const flat = headers as unknown as readonly string[];
      for (let i = 0; i + 1 < flat.length; i += 2) res.appendHeader(flat[i], flat[i + 1]);
    }
    return;
  }
  for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
    if (value !== undefined) res.setHeader(name, value as string | number | readonly string[]);
  }
}

/** The header store as a tsgi header list: names as the app spelled them, arrays as repeated headers. */
function headerList(res: ServerResponse): HeaderList {
  const out: HeaderList = [];
  for (const name of (res as unknown as Internals).getRawHeaderNames()) {
    const value = res.getHeader(name);
    if (Array.isArray(value)) for (const v of value) out.push([name, String(v)]);
    else if (value !== undefined) out.push([name, String(value)]);
  }
  return out;
}

/** A ServerResponse whose head goes to startResponse and whose body goes to `queue`. */
export function nodeResponse(req: IncomingMessage, queue: ChunkQueue, startResponse: StartResponse): ServerResponse {
  const res = new ServerResponse(req);
  const internals = res as unknown as Internals;
  // The gateway frames the body (Content-Length or chunked): Node must hand over bare bytes.
  internals.useChunkedEncodingByDefault = false;

  const seams = {
    writeHead(this: ServerResponse, statusCode: number, reason?: string | HeadersArg, headers?: HeadersArg): ServerResponse {
      if (res.headersSent) return nodeWriteHead.call(res, statusCode); // Node's own ERR_HTTP_HEADERS_SENT
      let message: string | undefined;
      if (typeof reason === 'string') message = reason;
      else headers = reason;
      if (headers !== undefined) mergeHeaders(res, headers);
      res.statusCode = statusCode;
      if (message !== undefined) res.statusMessage = message;
      startResponse(statusLine(statusCode, message ?? res.statusMessage), headerList(res));
      nodeWriteHead.call(res, statusCode, message ?? res.statusMessage);
      // A `Transfer-Encoding: chunked` header set by the app would make Node chunk the bytes it hands us.
      internals.chunkedEncoding = false;
      return res;
    },
    /** Node: prepend the serialised head and write to the socket. Here the head already went to startResponse. */
    _send(data: string | Uint8Array, encoding: BufferEncoding | null | undefined, callback?: Callback): boolean {
      internals._headerSent = true;
      return seams._writeRaw(data, encoding, callback);
    },
    /** Node: write bytes to the socket. Here: queue them for the gateway; false asks the writer to wait for 'drain'. */
    _writeRaw(data: string | Uint8Array, encoding: BufferEncoding | null | undefined | Callback, callback?: Callback): boolean {
      if (typeof encoding === 'function') {
        callback = encoding;
        encoding = undefined;
      }
      if (res.destroyed) return false;
      const buf = typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      return queue.push(buf, callback);
    },
    end(...args: unknown[]): ServerResponse {
      nodeEnd.apply(res, args);
      queue.end();
      return res;
    },
    destroy(err?: Error): ServerResponse {
      nodeDestroy.call(res, err);
      if (!queue.isEnded) queue.fail(err ?? new Error('the app destroyed the response before ending it'));
      return res;
    },
    writeContinue(): void {
      unsupported('res.writeContinue()', 'the gateway answers Expect: 100-continue itself');
    },
    writeProcessing(): void {
      unsupported('res.writeProcessing()', 'a tsgi response has one status; send the final one');
    },
    writeEarlyHints(): void {
      unsupported('res.writeEarlyHints()', 'a tsgi response has one status; send Link headers with the final one');
    },
    addTrailers(headers: OutgoingHttpHeaders | ReadonlyArray<[string, string]>): void {
      if (Object.keys(headers).length > 0) unsupported('res.addTrailers()', 'tsgi responses carry no trailers; send the fields as headers');
    },
  };
  Object.assign(res, seams);
  return res;
}
