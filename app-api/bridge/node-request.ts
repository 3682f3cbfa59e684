/**
 * The IncomingMessage of a bridged Node app, made from the environ. It is a real `http.IncomingMessage`
 * (express sets its own request prototype on top of that one, and middleware reads Node's getters), with:
 *
 * - `method`, `httpVersion`, `rawHeaders` (so Node's own `headers` / `headersDistinct` getters build the
 *   header objects, with Node's rules for repeated headers) from the CGI variables;
 * - `url` = PATH_INFO + query: the target relative to the mount point, as a mounted express sub-app sees it;
 *   `originalUrl` = SCRIPT_NAME + PATH_INFO + query and `baseUrl` = SCRIPT_NAME, which express keeps;
 * - the body pumped from `tsgi.input` only when the app reads (Readable's `_read`), so a 1 GB upload is never
 *   held in memory and a body the app ignores is never read.
 */
import { IncomingMessage } from 'node:http';
import type { Environ } from '../types.js';
import type { BridgeSocket } from './node-socket.js';
import { fullTarget, hasRequestBody, relativeTarget, requestHeaders } from './target.js';

/** Bytes per read from tsgi.input. */
const READ_SIZE = 64 * 1024;

/** An IncomingMessage with express's mount fields, as the bridge fills them. */
export interface BridgeRequest extends IncomingMessage {
  /** SCRIPT_NAME + PATH_INFO + query. */
  originalUrl: string;
  /** SCRIPT_NAME: where the app is mounted. */
  baseUrl: string;
  /** The environ this request came from, for code that wants REMOTE_USER, tsgi.* and the rest. */
  environ: Environ;
}

/** Build the request for one environ. */
export function nodeRequest(environ: Environ, socket: BridgeSocket): BridgeRequest {
  const req = new IncomingMessage(socket as never) as BridgeRequest;
  req.method = environ.REQUEST_METHOD;
  const version = /^HTTP\/(\d)(?:\.(\d))?$/.exec(environ.SERVER_PROTOCOL);
  req.httpVersionMajor = version !== null ? Number(version[1]) : 1;
  req.httpVersionMinor = version !== null ? Number(version[2] ?? 0) : 1;
  req.httpVersion = `${req.httpVersionMajor}.${req.httpVersionMinor}`;
  req.url = relativeTarget(environ);
  req.originalUrl = fullTarget(environ);
  req.baseUrl = environ.SCRIPT_NAME;
  req.environ = environ;
  const pairs = requestHeaders(environ);
  req.rawHeaders = pairs.flat();
  // Node's `headers` getter counts the headers its parser saw, so it would be empty here: fill it with Node's
  // own merge rules (_addHeaderLine: repeated headers joined, Set-Cookie as an array, duplicates of
  // Content-Type and the like dropped) so a bridged app sees what it would see on a socket.
  const headers: Record<string, string | string[]> = {};
  const add = (req as unknown as { _addHeaderLine?: (name: string, value: string, dst: object) => void })._addHeaderLine;
  for (const [name, value] of pairs) {
    if (add !== undefined) add.call(req, name, value, headers);
    else headers[name] = name in headers ? `${headers[name] as string}, ${value}` : value;
  }
  req.headers = headers;

  if (!hasRequestBody(environ)) {
    req.push(null);
    req.complete = true;
    return req;
  }
  const input = environ['tsgi.input'];
  let reading = false;
  // Readable calls _read when its buffer has room: one read from the gateway per call, never ahead.
  const state = (req as unknown as { _readableState: { readingMore: boolean } })._readableState;
  req._read = () => {
    // As IncomingMessage's own _read: its constructor sets readingMore (its parser pushes unasked), which
    // would stop Readable from asking for the next chunk.
    state.readingMore = false;
    (req as unknown as { _consuming: boolean })._consuming = true;
    if (reading) return;
    reading = true;
    input.read(READ_SIZE).then(
      (chunk) => {
        reading = false;
        if (chunk.length === 0) {
          req.complete = true;
          req.push(null);
        } else req.push(chunk);
      },
      (err: unknown) => {
        reading = false;
        req.destroy(err instanceof Error ? err : new Error(String(err)));
      },
    );
  };
  return req;
}
