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
  _header: string | null;
  _hasBody: boolean;
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

const kQueue = Symbol('tsgi.bridge.queue');
const kStart = Symbol('tsgi.bridge.startResponse');
/** A bridged response: a ServerResponse plus where its head and body go. */
type Bridged = ServerResponse & Internals & { [kQueue]: ChunkQueue; [kStart]: StartResponse };

/**
 * What `headersSent` reads once the head went to startResponse. Node's writeHead is not called: it would
 * serialise a head (status line, every header, Date) only for it to be thrown away, which was the largest
 * share of the bridge's own cost for an express hello world (`npm run bench:path`).
 */
const HEAD_TAKEN = 'HTTP/1.1 000 (the head went to tsgi startResponse)\r\n\r\n';

function queueBytes(res: Bridged, data: string | Uint8Array, encoding: BufferEncoding | null | undefined | Callback, callback?: Callback): boolean {
  if (typeof encoding === 'function') {
    callback = encoding;
    encoding = undefined;
  }
  if (res.destroyed) return false;
  const buf = typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return res[kQueue].push(buf, callback);
}

/**
 * The seams, one set of functions for every response (`this` is the response): per-request closures were
 * ten allocations a request and gave each response's methods their own feedback.
 */
const seams = {
  writeHead(this: Bridged, statusCode: number, reason?: string | HeadersArg, headers?: HeadersArg): ServerResponse {
    if (this.headersSent) return nodeWriteHead.call(this, statusCode); // Node's own ERR_HTTP_HEADERS_SENT
    let message: string | undefined;
    if (typeof reason === 'string') message = reason;
    else headers = reason;
    if (headers !== undefined) mergeHeaders(this, headers);
    const status = statusLine(statusCode, message ?? this.statusMessage);
    this[kStart](status, headerList(this));
    this.statusCode = statusCode;
    this.statusMessage = status.slice(status.indexOf(' ') + 1);
    // What Node's writeHead would have decided for the body: none after 1xx, 204 and 304 (HEAD: the constructor).
    if (statusCode === 204 || statusCode === 304 || (statusCode >= 100 && statusCode <= 199)) this._hasBody = false;
    this._header = HEAD_TAKEN;
    // A `Transfer-Encoding: chunked` header set by the app would make Node chunk the bytes it hands us.
    this.chunkedEncoding = false;
    return this;
  },
  /** Node: prepend the serialised head and write to the socket. Here the head already went to startResponse. */
  _send(this: Bridged, data: string | Uint8Array, encoding: BufferEncoding | null | undefined, callback?: Callback): boolean {
    this._headerSent = true;
    return queueBytes(this, data, encoding, callback);
  },
  /** Node: write bytes to the socket. Here: queue them for the gateway; false asks the writer to wait for 'drain'. */
  _writeRaw(this: Bridged, data: string | Uint8Array, encoding: BufferEncoding | null | undefined | Callback, callback?: Callback): boolean {
    return queueBytes(this, data, encoding, callback);
  },
  end(this: Bridged, ...args: unknown[]): ServerResponse {
    nodeEnd.apply(this, args);
    this[kQueue].end();
    return this;
  },
  destroy(this: Bridged, err?: Error): ServerResponse {
    nodeDestroy.call(this, err);
    const queue = this[kQueue];
    if (!queue.isEnded) queue.fail(err ?? new Error('the app destroyed the response before ending it'));
    return this;
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

/** A ServerResponse whose head goes to startResponse and whose body goes to `queue`. */
export function nodeResponse(req: IncomingMessage, queue: ChunkQueue, startResponse: StartResponse): ServerResponse {
  const res = new ServerResponse(req) as Bridged;
  // The gateway frames the body (Content-Length or chunked): Node must hand over bare bytes.
  res.useChunkedEncodingByDefault = false;
  res[kQueue] = queue;
  res[kStart] = startResponse;
  // Own properties, not a subclass: express swaps the prototype of every response for its own.
  Object.assign(res, seams);
  return res;
}
