/**
 * One SCGI connection = one request: read the netstring head, stream exactly CONTENT_LENGTH body bytes to
 * the app, write the CGI-style response, close. Anything that breaks the protocol (see parse.ts), and any
 * byte after the body, closes the connection with one TSGI_ERR_PROTOCOL log line naming the problem and the
 * peer. Bytes after the body are never read as a second request: a front that did so would let a proxy and
 * the app disagree on request boundaries (the nginx SCGI desync class of bugs).
 */
import type { Socket } from 'node:net';
import { TsgiError } from '../../app-api/errors.js';
import type { CgiVars } from '../../app-api/types.js';
import type { Dispatcher } from '../../gateway/dispatch.js';
import { cgiFromGateway, decodeUtf8Var, removedFromGateway, UTF8_CGI_VARS } from '../../gateway/environ.js';
import { ErrorLog } from '../../gateway/log.js';
import { DEFAULT_BODY_HIGH_WATER, SocketBody, truncatedBody } from './body.js';
import { DEFAULT_MAX_HEADER_BYTES, ScgiHeadParser, type ScgiHead } from './parse.js';
import { ScgiSink } from './sink.js';

/** Settings of an SCGI connection. Times are milliseconds. */
export interface ScgiConnectionOptions {
  /** Mount point: the app's SCRIPT_NAME; the web server's SCRIPT_NAME + PATH_INFO are re-split at it. */
  scriptName?: string;
  /** Error log. Default: stderr. */
  log?: ErrorLog;
  /** Limit of the header block (netstring payload). Default 64 KiB. */
  maxHeaderBytes?: number;
  /** The whole request head must arrive within this time (slowloris). Default 20 s. */
  headerTimeout?: number;
  /** No bytes either way for this long closes the connection. Default 60 s. */
  idleTimeout?: number;
  /** After the response is flushed, how long to wait for the peer to close (reading and dropping an unread body). Default 5 s. */
  lingerTimeout?: number;
  /** Body bytes buffered for the app before the socket is paused. Default 64 KiB. */
  bodyHighWater?: number;
  /**
   * Join a repeated HTTP_* header (', ', or '; ' for cookies), as the HTTP and FastCGI fronts do. Default
   * true: nginx up to 1.22 sends one SCGI header per request header line, so a client repeating a header
   * (two `X-Multi:` lines) would otherwise get a 502. Set false to refuse any repeated name, as protocol.txt
   * reads literally. Other repeated names (CONTENT_LENGTH, SCGI, REQUEST_METHOD...) are always refused:
   * those are where a proxy and the app could come to disagree about the request (reliability table).
   * Behind lighttpd, HTTP_* values a client can send with underscores are not trustworthy either way:
   * lighttpd itself maps both `X-Custom-Id` and `X_Custom_Id` to HTTP_X_CUSTOM_ID (examples/deploy/README.md).
   */
  joinDuplicateHttpHeaders?: boolean;
}

/** A connection being served, as a server tracks it. */
export interface ScgiConnection {
  /** True from a complete request head until the socket closes. */
  readonly busy: boolean;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  /** Close the connection now (a response in progress is cut). */
  destroy(): void;
}

/** `127.0.0.1:5432`, `[::1]:5432`, or `unix socket` for a log line. */
export function peerName(socket: Socket): string {
  const addr = socket.remoteAddress;
  if (addr === undefined) return socket.destroyed ? 'a peer that has gone' : 'unix socket peer';
  return (addr.includes(':') ? `[${addr}]` : addr) + ':' + String(socket.remotePort);
}

// The head parser reads bytes as Latin-1; UTF8_CGI_VARS (gateway/environ.ts) are re-read as UTF-8.
const NON_ASCII = /[\x80-\xff]/;

/** SCGI headers -> CGI variables as the peer sent them (gateway/environ.ts `cgiFromGateway` cleans them). */
export function scgiParams(headers: Map<string, string>): CgiVars {
  const out: CgiVars = {};
  for (const [name, value] of headers) {
    // Left out here rather than deleted later: a delete turns the environ into a slow dictionary object.
    if (removedFromGateway(name, value)) continue;
    if (UTF8_CGI_VARS.has(name) && NON_ASCII.test(value)) {
      const text = decodeUtf8Var(Buffer.from(value, 'latin1'));
      if (text === null) throw new TsgiError('TSGI_ERR_BAD_REQUEST', `${name} is not valid UTF-8`, { status: 400 });
      out[name] = text;
    } else out[name] = value;
  }
  return out;
}

/**
 * Serve one SCGI request on `socket` (a fresh connection, or one handed over by protocol=auto with the
 * bytes it peeked pushed back by `socket.unshift`). The socket should allow half-open connections
 * (`allowHalfOpen: true`): a web server may shut down its sending side after the request and still wait for
 * the response.
 */
export function handleScgiConnection(socket: Socket, dispatcher: Dispatcher, opts: ScgiConnectionOptions = {}): ScgiConnection {
  const log = opts.log ?? new ErrorLog();
  // Only error lines name the peer: asking the socket (getpeername) for every request was ~2% of its CPU.
  let peerCache: string | undefined;
  const peerOf = (): string => (peerCache ??= peerName(socket));
  const parser = new ScgiHeadParser(opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES, opts.joinDuplicateHttpHeaders !== false);
  const headerTimeout = opts.headerTimeout ?? 20_000;
  const lingerTimeout = opts.lingerTimeout ?? 5_000;
  let state: 'head' | 'request' | 'linger' = 'head';
  let sawBytes = false;
  let body: SocketBody | null = null;
  let failed = false;
  let lingerTimer: NodeJS.Timeout | undefined;

  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

  const protocolError = (problem: string): void => {
    if (failed) return;
    failed = true;
    log.log('error', `${problem} from ${peerOf()}; connection closed (TSGI_ERR_PROTOCOL)`);
    body?.fail(new TsgiError('TSGI_ERR_INPUT_CLOSED', `the SCGI connection from ${peerOf()} was closed after a protocol error`, { status: 400 }));
    socket.destroy();
  };

  const headTimer = setTimeout(() => {
    if (sawBytes) protocolError(`SCGI: the request head did not arrive within ${headerTimeout} ms`);
    else socket.destroy(); // an idle connection that never sent anything: nothing worth a log line
  }, headerTimeout);
  headTimer.unref();

  socket.setTimeout(opts.idleTimeout ?? 60_000, () => {
    if (state === 'request') log.log('warn', `SCGI connection from ${peerOf()} idle for ${socket.timeout} ms; closed (TSGI_ERR_TIMEOUT)`);
    body?.fail(new TsgiError('TSGI_ERR_TIMEOUT', `the SCGI connection from ${peerOf()} was idle too long`, { status: 408 }));
    socket.destroy();
  });

  const trailing = (extra: Buffer): void => {
    const len = body === null ? 0 : body.length;
    protocolError(`SCGI: ${extra.length} byte(s) after the ${len}-byte body (one request per connection: they are not read as a request)`);
  };

  const onResponseEnd = (): void => {
    state = 'linger';
    // Read on (dropping an unread body) so trailing bytes are seen and the peer's close is noticed.
    if (body !== null) body.discard();
    else socket.resume();
    const startLinger = (): void => {
      lingerTimer = setTimeout(() => socket.destroy(), lingerTimeout);
      lingerTimer.unref();
    };
    if (socket.writableFinished) startLinger();
    else socket.once('finish', startLinger);
  };

  const refuse = (head: ScgiHead, err: unknown): void => {
    const status = err instanceof TsgiError ? err.status : 400;
    const code = err instanceof TsgiError ? err.code : 'TSGI_ERR_BAD_REQUEST';
    const what = `${head.headers.get('REQUEST_METHOD') ?? '?'} ${(head.headers.get('REQUEST_URI') ?? head.headers.get('PATH_INFO') ?? '').slice(0, 200)}`;
    log.log('warn', `refused SCGI request ${what} from ${peerOf()}: ${(err as Error).message} (${code})`);
    const text = Buffer.from(status === 404 ? 'Not Found\n' : 'Bad Request\n');
    const sink = new ScgiSink(socket, onResponseEnd);
    sink.start(status, status === 404 ? 'Not Found' : 'Bad Request', [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', String(text.length)],
    ]);
    sink.end(text);
  };

  const startRequest = (head: ScgiHead, rest: Buffer): void => {
    state = 'request';
    clearTimeout(headTimer);
    body = head.contentLength > 0 ? new SocketBody(socket, head.contentLength, opts.bodyHighWater ?? DEFAULT_BODY_HIGH_WATER) : null;
    const extra = body === null ? rest : body.push(rest);
    if (extra.length > 0) return trailing(extra);
    let cgi: CgiVars;
    try {
      cgi = cgiFromGateway(scgiParams(head.headers), { scriptName: opts.scriptName });
    } catch (err) {
      return refuse(head, err);
    }
    const sink = new ScgiSink(socket, onResponseEnd);
    const settled = (): void => {
      // The core returned without ending the response (aborted, or the peer left): nothing more to say.
      if (state !== 'linger') socket.destroy();
    };
    try {
      const done = dispatcher.dispatch({ cgi, body }, sink);
      if (done !== undefined) done.then(settled, (err) => {
        log.log('error', `SCGI dispatch failed for ${peerOf()}`, err);
        socket.destroy();
      });
      else settled();
    } catch (err) {
      log.log('error', `SCGI dispatch failed for ${peerOf()}`, err);
      socket.destroy();
    }
  };

  socket.on('data', (chunk: Buffer) => {
    if (failed) return;
    sawBytes = true;
    if (state === 'head') {
      let parsed;
      try {
        parsed = parser.push(chunk);
      } catch (err) {
        return protocolError((err as Error).message);
      }
      if (parsed !== null) startRequest(parsed.head, parsed.rest);
      return;
    }
    const extra = body === null ? chunk : body.push(chunk);
    if (extra.length > 0) trailing(extra);
  });

  socket.on('end', () => {
    if (state === 'head') {
      if (sawBytes) protocolError('SCGI: the connection was closed in the middle of the request head');
      else socket.destroy();
    } else if (body !== null && !body.complete) {
      body.fail(truncatedBody(body.received, body.length, peerOf()));
    }
  });

  socket.on('error', (err) => {
    // Resets from the peer are routine (the web server gave up on its client); the close handler cleans up.
    body?.fail(new TsgiError('TSGI_ERR_INPUT_CLOSED', `the SCGI connection from ${peerOf()} failed: ${err.message}`, { status: 400, cause: err }));
  });

  socket.on('close', () => {
    clearTimeout(headTimer);
    clearTimeout(lingerTimer);
    body?.fail(truncatedBody(body.received, body.length, peerOf()));
  });

  return {
    get busy() {
      return state !== 'head';
    },
    closed,
    destroy() {
      socket.destroy();
    },
  };
}
