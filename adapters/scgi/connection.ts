/**
 * One SCGI connection = one request: read the netstring head, stream exactly CONTENT_LENGTH body bytes to
 * the app, write the CGI-style response, close. Anything that breaks the protocol (see parse.ts), and any
 * byte after the body, closes the connection with one TSGI_ERR_PROTOCOL log line naming the problem and the
 * peer. Bytes after the body are never read as a second request: a front that did so would let a proxy and
 * the app disagree on request boundaries (the nginx SCGI desync class of bugs).
 */
import { ClientGone } from '../../gateway/core/client-gone.js';
import type { Socket } from 'node:net';
import { isTsgiError, tsgiError, TsgiError } from '../../app-api/errors.js';
import { bodyTimedOut, checkCgiHead, checkDeclaredBody, requestLimits, type RequestLimits } from '../../gateway/core/limits.js';
import type { CgiVars } from '../../app-api/types.js';
import type { Dispatcher } from '../../gateway/core/dispatch.js';
import { cgiFromGateway, decodeUtf8Var, removedFromGateway, UTF8_CGI_VARS } from '../../gateway/core/environ.js';
import { ErrorLog } from '../../gateway/core/log.js';
import { CgiObject } from '../../gateway/core/cgi-object.js';
import { DEFAULT_BODY_HIGH_WATER, SocketBody, truncatedBody } from './body.js';
import { DEFAULT_MAX_HEADER_BYTES, parseWholeHead, ScgiHeadParser, type ScgiHead } from './parse.js';
import { ScgiSink } from './sink.js';
import { refuseConnection, refuseRequest } from '../refuse.js';
import { drainFront } from '../connections/drain.js';
import { ConnectionManager, HEAD, LINGER, ManagedConnection, REQUEST, type TimeoutKind } from '../connections/manager.js';

/** Settings of an SCGI connection. Times are milliseconds. */
export interface ScgiConnectionOptions {
  /** Mount point: the app's SCRIPT_NAME; the web server's SCRIPT_NAME + PATH_INFO are re-split at it. */
  scriptName?: string;
  /** Error log. Default: stderr. */
  log?: ErrorLog;
  /** Limit of the header block (netstring payload); a longer one is answered 431 and the connection closed. Default 64 KiB. */
  maxHeaderBytes?: number;
  /** Request line, header and body limits (gateway/core/limits.ts). Default gunicorn's, no body limit. */
  limits?: Partial<RequestLimits>;
  /** A request whose body moves no byte for this long fails its read with 408 (answered if the response has not begun). Default idleTimeout. */
  bodyTimeout?: number;
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
  /** Call `cb` once the socket has closed (at once if it has). */
  onClosed(cb: () => void): void;
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
// A loop, not a regex: the values are short paths, and a RegExp test per value was ~1% of a request.
function hasNonAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return true;
  return false;
}
// As an array: iterating the Set made an iterator per request.
const UTF8_NAMES: readonly string[] = [...UTF8_CGI_VARS];

/** SCGI headers -> CGI variables, in place (gateway/environ.ts `cgiFromGateway` cleans them): the UTF8_CGI_VARS re-read as UTF-8. */
export function scgiParams(headers: Record<string, string>): CgiVars {
  // Only the UTF8_CGI_VARS need a second look; the object itself becomes the CGI variables (no copy).
  for (let i = 0; i < UTF8_NAMES.length; i++) {
    const name = UTF8_NAMES[i];
    const value = headers[name];
    if (value === undefined || !hasNonAscii(value)) continue;
    const text = decodeUtf8Var(Buffer.from(value, 'latin1'));
    if (text === null) throw tsgiError('TSGI_ERR_BAD_REQUEST', { problem: `${name} is not valid UTF-8` });
    headers[name] = text;
  }
  return headers;
}

/**
 * The object the headers go into: a CgiObject has room for a browser's worth of variables, where `{}` turns
 * into a slow dictionary past 16 keyed stores (and at the environ's symbol store after them).
 */
const newCgiObject = (): Record<string, string> => new CgiObject() as Record<string, string>;

/** What the parser leaves out of the CGI variables: what cgiFromGateway would delete (see removedFromGateway). */
const keepForCgi = (name: string, value: string): boolean => !removedFromGateway(name, value);

/** The settings every connection of a server shares, with the defaults filled in. */
interface Settings {
  readonly dispatcher: Dispatcher;
  readonly log: ErrorLog;
  readonly scriptName: string | undefined;
  readonly maxHeaderBytes: number;
  readonly joinDuplicateHttpHeaders: boolean;
  readonly headerTimeout: number;
  readonly idleTimeout: number;
  readonly lingerTimeout: number;
  readonly bodyHighWater: number;
  readonly limits: RequestLimits;
  readonly bodyTimeout: number;
}

function settingsOf(dispatcher: Dispatcher, opts: ScgiConnectionOptions): Settings {
  return {
    dispatcher,
    log: opts.log ?? new ErrorLog(),
    scriptName: opts.scriptName,
    maxHeaderBytes: opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
    joinDuplicateHttpHeaders: opts.joinDuplicateHttpHeaders !== false,
    headerTimeout: opts.headerTimeout ?? 20_000,
    idleTimeout: opts.idleTimeout ?? 60_000,
    lingerTimeout: opts.lingerTimeout ?? 5_000,
    bodyHighWater: opts.bodyHighWater ?? DEFAULT_BODY_HIGH_WATER,
    limits: requestLimits(opts.limits),
    bodyTimeout: opts.bodyTimeout ?? opts.idleTimeout ?? 60_000,
  };
}

// The socket's listeners are these shared functions, not closures: nothing is allocated per connection for
// them (EventEmitter calls a listener with `this` = the socket, which carries its connection).
const kConnection = Symbol('tsgi.scgi.connection');
type ConnSocket = Socket & { [kConnection]: Connection };
function onSocketData(this: ConnSocket, chunk: Buffer): void {
  this[kConnection].onData(chunk);
}
function onSocketEnd(this: ConnSocket): void {
  this[kConnection].onEnd();
}
function onSocketError(this: ConnSocket, err: Error): void {
  this[kConnection].onError(err);
}
function onSocketClose(this: ConnSocket): void {
  this[kConnection].onClose();
}

/** One connection: head, then the request, then lingering until the peer closes. */
class Connection extends ManagedConnection implements ScgiConnection {
  /** Made only when the head does not arrive whole in the first read (see parseWholeHead). */
  private parser: ScgiHeadParser | null = null;
  private sawBytes = false;
  private failed = false;
  private isClosed = false;
  private body: SocketBody | null = null;
  private peerCache: string | undefined;
  private closeWaiters: Array<() => void> | null = null;
  private bodyTimedOut = false;
  /**
   * tsgi.client_gone: the socket's close, or its FIN while the request runs. A web server closes its
   * connection when its client leaves; one that only half-closes after the request still gets the response.
   */
  private clientGone: ClientGone | null = null;

  constructor(socket: Socket, manager: ConnectionManager, private readonly s: Settings) {
    super(socket, manager, HEAD);
    (socket as ConnSocket)[kConnection] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
  }

  get busy(): boolean {
    return this.phase !== HEAD;
  }

  get closed(): Promise<void> {
    return new Promise((resolve) => this.onClosed(resolve));
  }

  onClosed(cb: () => void): void {
    if (this.isClosed) cb();
    else (this.closeWaiters ??= []).push(cb);
  }

  /** One request per connection: a connection with no request in flight is simply closed. */
  override closeIdle(): void {
    this.socket.destroy();
  }

  /** Only error lines name the peer: asking the socket (getpeername) for every request was ~2% of its CPU. */
  private peer(): string {
    return (this.peerCache ??= peerName(this.socket));
  }

  private protocolError(problem: string): void {
    if (this.failed) return;
    this.failed = true;
    this.body?.fail(tsgiError('TSGI_ERR_INPUT_CLOSED', { problem: `the SCGI connection from ${this.peer()} was closed after a protocol error` }));
    refuseConnection(this.socket, this.s.log, problem, this.peer());
  }

  /** The header, idle and linger timeouts (checked by the ConnectionManager's sweep). */
  override timedOut(kind: TimeoutKind, ms: number): void {
    if (kind === 'header') {
      if (this.sawBytes) this.protocolError(`SCGI: the request head did not arrive within ${ms} ms`);
      else this.socket.destroy(); // an idle connection that never sent anything: nothing worth a log line
      return;
    }
    if (kind === 'linger') return void this.socket.destroy();
    const body = this.body;
    if (kind === 'body' && this.phase === REQUEST && body !== null && !body.complete && !this.bodyTimedOut) {
      // A declared body that stopped coming: the app's read fails and the core answers 408 if nothing went
      // out. Still quiet at the next sweep, the connection is cut below.
      this.bodyTimedOut = true;
      this.s.log.log('warn', `SCGI request from ${this.peer()}: ${body.received} of ${body.length} body bytes, then none for ${ms} ms (bodyTimeout); its body read fails with 408 (TSGI_ERR_TIMEOUT)`);
      return body.fail(bodyTimedOut(ms, this.peer()));
    }
    if (this.phase === REQUEST) this.s.log.log('warn', `SCGI connection from ${this.peer()} idle for ${ms} ms; closed (TSGI_ERR_TIMEOUT)`);
    // 408 Request Timeout, not the code's 504: the client stalled, not the app.
    this.body?.fail(tsgiError('TSGI_ERR_TIMEOUT', { problem: `the SCGI connection from ${this.peer()} was idle too long`, limit: 'idleTimeout' }, { status: 408 }));
    this.socket.destroy();
  }

  private trailing(extra: Buffer): void {
    const len = this.body === null ? 0 : this.body.length;
    this.protocolError(`SCGI: ${extra.length} byte(s) after the ${len}-byte body (one request per connection: they are not read as a request)`);
  }

  /** The response is complete (ScgiSink.end): read on, dropping an unread body, to see trailing bytes and the peer's close. */
  responseEnded(): void {
    this.enter(LINGER);
    if (this.body !== null) this.body.discard();
    else this.socket.resume();
  }

  private refuse(head: ScgiHead, err: unknown): void {
    const what = `SCGI request ${head.headers.REQUEST_METHOD ?? '?'} ${(head.headers.REQUEST_URI ?? head.headers.PATH_INFO ?? '').slice(0, 200)}`;
    refuseRequest(new ScgiSink(this.socket, this), this.s.log, err, { what, peer: this.peer() });
  }

  /** A header block over the limit: answered 431 without reading it; whatever else comes is dropped until the peer closes (linger). */
  private refuseHead(err: TsgiError): void {
    this.failed = true;
    refuseRequest(new ScgiSink(this.socket, this), this.s.log, err, { what: 'SCGI request (header block)', peer: this.peer() });
  }

  private startRequest(head: ScgiHead, rest: Buffer): void {
    this.enter(REQUEST);
    const body = (this.body = head.contentLength > 0 ? new SocketBody(this.socket, head.contentLength, this.s.bodyHighWater) : null);
    const extra = body === null ? rest : body.push(rest);
    if (extra.length > 0) return this.trailing(extra);
    let cgi: CgiVars;
    try {
      cgi = cgiFromGateway(scgiParams(head.headers), { scriptName: this.s.scriptName, prefiltered: true });
      checkCgiHead(this.s.limits, cgi);
      // SCGI always declares the body's length, and no more is read: the declared length is the whole check.
      checkDeclaredBody(this.s.limits, cgi.CONTENT_LENGTH);
    } catch (err) {
      return this.refuse(head, err);
    }
    const sink = new ScgiSink(this.socket, this);
    try {
      const done = this.s.dispatcher.dispatch({ cgi, body, clientGone: (this.clientGone = new ClientGone()) }, sink);
      if (done !== undefined) done.then(() => this.settled(), (err) => this.dispatchFailed(err));
      else this.settled();
    } catch (err) {
      this.dispatchFailed(err);
    }
  }

  /** The core returned; without the response ended (aborted, or the peer left) there is nothing more to say. */
  private settled(): void {
    if (this.phase !== LINGER) this.socket.destroy();
  }

  private dispatchFailed(err: unknown): void {
    this.s.log.log('error', `SCGI dispatch failed for ${this.peer()}`, err);
    this.socket.destroy();
  }

  onData(chunk: Buffer): void {
    if (this.failed) return;
    if (this.phase === HEAD) {
      let parsed;
      try {
        const s = this.s;
        if (this.sawBytes) parsed = this.parser!.push(chunk);
        else {
          this.sawBytes = true;
          parsed = parseWholeHead(chunk, s.maxHeaderBytes, s.joinDuplicateHttpHeaders, keepForCgi, newCgiObject);
          if (parsed === null) parsed = (this.parser = new ScgiHeadParser(s.maxHeaderBytes, s.joinDuplicateHttpHeaders, keepForCgi, newCgiObject)).push(chunk);
        }
      } catch (err) {
        if (isTsgiError(err, 'TSGI_ERR_HEADERS_TOO_LARGE')) return this.refuseHead(err);
        return this.protocolError((err as Error).message);
      }
      if (parsed !== null) this.startRequest(parsed.head, parsed.rest);
      return;
    }
    const extra = this.body === null ? chunk : this.body.push(chunk);
    if (extra.length > 0) this.trailing(extra);
  }

  onEnd(): void {
    if (this.phase === HEAD) {
      if (this.sawBytes) this.protocolError('SCGI: the connection was closed in the middle of the request head');
      else this.socket.destroy();
    } else if (this.body !== null && !this.body.complete) {
      this.body.fail(truncatedBody(this.body.received, this.body.length, this.peer()));
    }
    if (this.phase === REQUEST) this.clientGone?.gone('the web server closed its side of the SCGI connection (FIN) before the response was done');
  }

  onError(err: Error): void {
    // Resets from the peer are routine (the web server gave up on its client); the close handler cleans up.
    this.body?.fail(tsgiError('TSGI_ERR_INPUT_CLOSED', { problem: `the SCGI connection from ${this.peer()} failed: ${err.message}` }, { cause: err }));
  }

  onClose(): void {
    this.isClosed = true;
    if (this.phase === REQUEST) this.clientGone?.gone('the SCGI connection closed before the response was done');
    this.left();
    const body = this.body;
    body?.fail(truncatedBody(body.received, body.length, this.peer()));
    const waiters = this.closeWaiters;
    this.closeWaiters = null;
    if (waiters !== null) for (const cb of waiters) cb();
  }
}

/** Serves SCGI connections accepted elsewhere (the SCGI server's listener, protocol=auto, a worker process). */
export interface ScgiHandler {
  /**
   * Serve one SCGI request on `socket` (a fresh connection, or one handed over by protocol=auto with the
   * bytes it peeked pushed back by `socket.unshift`). The socket should allow half-open connections
   * (`allowHalfOpen: true`): a web server may shut down its sending side after the request and still wait
   * for the response.
   */
  handleConnection(socket: Socket): ScgiConnection;
  /** Connections open now. */
  readonly connections: number;
  /** Idle connections close now, requests in flight get `graceMs` to finish, then are cut. Stop accepting first. */
  close(graceMs?: number): Promise<void>;
}

/** Build the SCGI protocol handler for a dispatcher: its connections share one ConnectionManager. */
export function createScgiHandler(dispatcher: Dispatcher, opts: ScgiConnectionOptions = {}): ScgiHandler {
  const s = settingsOf(dispatcher, opts);
  const manager = new ConnectionManager({ headerTimeout: s.headerTimeout, idleTimeout: s.idleTimeout, bodyTimeout: s.bodyTimeout, lingerTimeout: s.lingerTimeout });
  let closing: Promise<void> | null = null;
  return {
    handleConnection: (socket) => new Connection(socket, manager, s),
    get connections() {
      return manager.size;
    },
    close(graceMs = 30_000) {
      closing ??= drainFront(null, manager, graceMs, 'SCGI', s.log);
      return closing;
    },
  };
}
