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
import type { Dispatcher } from '../../gateway/core/dispatch.js';
import { cgiFromGateway, decodeUtf8Var, removedFromGateway, UTF8_CGI_VARS } from '../../gateway/core/environ.js';
import { ErrorLog } from '../../gateway/core/log.js';
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
const NON_ASCII = /[\x80-\xff]/;

/** SCGI headers -> CGI variables, in place (gateway/environ.ts `cgiFromGateway` cleans them): the UTF8_CGI_VARS re-read as UTF-8. */
export function scgiParams(headers: Record<string, string>): CgiVars {
  // Only the UTF8_CGI_VARS need a second look; the object itself becomes the CGI variables (no copy).
  for (const name of UTF8_CGI_VARS) {
    const value = headers[name];
    if (value === undefined || !NON_ASCII.test(value)) continue;
    const text = decodeUtf8Var(Buffer.from(value, 'latin1'));
    if (text === null) throw new TsgiError('TSGI_ERR_BAD_REQUEST', `${name} is not valid UTF-8`, { status: 400 });
    headers[name] = text;
  }
  return headers;
}

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
  };
}

/**
 * The timeouts of every SCGI connection, checked by one sweep per granularity instead of timers per socket
 * (a head timer, socket.setTimeout re-armed on every read and write, a linger timer), as the HTTP
 * (adapters/http/idle-sweep.ts) and FastCGI fronts do. A timeout fires up to a quarter of itself late
 * (at most 1 s). The interval stops after a sweep that found no connection, so an idle server does not wake.
 */
class Sweeper {
  private static readonly byPeriod = new Map<number, Sweeper>();
  private readonly live = new Set<Connection>();
  private timer: NodeJS.Timeout | null = null;

  private constructor(private readonly period: number) {}

  static for(s: Settings): Sweeper {
    const shortest = Math.min(s.headerTimeout, s.idleTimeout > 0 ? s.idleTimeout : Infinity, s.lingerTimeout);
    const period = Math.max(10, Math.min(Math.floor(shortest / 4), 1000));
    let sweeper = Sweeper.byPeriod.get(period);
    if (sweeper === undefined) Sweeper.byPeriod.set(period, (sweeper = new Sweeper(period)));
    return sweeper;
  }

  add(conn: Connection): void {
    this.live.add(conn);
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      if (this.live.size === 0) {
        clearInterval(this.timer!);
        this.timer = null;
        return;
      }
      const now = Date.now();
      for (const c of this.live) c.sweep(now);
    }, this.period);
    this.timer.unref();
  }

  delete(conn: Connection): void {
    this.live.delete(conn);
  }
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
class Connection implements ScgiConnection {
  private readonly parser: ScgiHeadParser;
  private readonly sweeper: Sweeper;
  private state: 'head' | 'request' | 'linger' | 'closed' = 'head';
  private sawBytes = false;
  private failed = false;
  private body: SocketBody | null = null;
  private peerCache: string | undefined;
  private readonly startedAt = Date.now();
  /** Bytes read + written at the last sweep that saw them change, and when. */
  private progressBytes = 0;
  private progressAt = this.startedAt;
  /** When the sweep first saw the response flushed (linger starts), 0 before. */
  private lingerSince = 0;
  private closeWaiters: Array<() => void> | null = null;

  constructor(private readonly socket: Socket, private readonly s: Settings) {
    this.parser = new ScgiHeadParser(s.maxHeaderBytes, s.joinDuplicateHttpHeaders, keepForCgi);
    (socket as ConnSocket)[kConnection] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    this.sweeper = Sweeper.for(s);
    this.sweeper.add(this);
  }

  get busy(): boolean {
    return this.state !== 'head';
  }

  get closed(): Promise<void> {
    return new Promise((resolve) => this.onClosed(resolve));
  }

  onClosed(cb: () => void): void {
    if (this.state === 'closed') cb();
    else (this.closeWaiters ??= []).push(cb);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Only error lines name the peer: asking the socket (getpeername) for every request was ~2% of its CPU. */
  private peer(): string {
    return (this.peerCache ??= peerName(this.socket));
  }

  private protocolError(problem: string): void {
    if (this.failed) return;
    this.failed = true;
    this.s.log.log('error', `${problem} from ${this.peer()}; connection closed (TSGI_ERR_PROTOCOL)`);
    this.body?.fail(new TsgiError('TSGI_ERR_INPUT_CLOSED', `the SCGI connection from ${this.peer()} was closed after a protocol error`, { status: 400 }));
    this.socket.destroy();
  }

  /** Called by the sweeper: the header, idle and linger timeouts. */
  sweep(now: number): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    const s = this.s;
    if (this.state === 'head' && now - this.startedAt >= s.headerTimeout) {
      if (this.sawBytes) this.protocolError(`SCGI: the request head did not arrive within ${s.headerTimeout} ms`);
      else socket.destroy(); // an idle connection that never sent anything: nothing worth a log line
      return;
    }
    if (this.state === 'linger' && socket.writableFinished) {
      if (this.lingerSince === 0) this.lingerSince = now;
      else if (now - this.lingerSince >= s.lingerTimeout) socket.destroy();
      return;
    }
    if (!(s.idleTimeout > 0)) return;
    const bytes = socket.bytesRead + socket.bytesWritten;
    if (bytes !== this.progressBytes) {
      this.progressBytes = bytes;
      this.progressAt = now;
    } else if (now - this.progressAt >= s.idleTimeout) {
      if (this.state === 'request') s.log.log('warn', `SCGI connection from ${this.peer()} idle for ${s.idleTimeout} ms; closed (TSGI_ERR_TIMEOUT)`);
      this.body?.fail(new TsgiError('TSGI_ERR_TIMEOUT', `the SCGI connection from ${this.peer()} was idle too long`, { status: 408 }));
      socket.destroy();
    }
  }

  private trailing(extra: Buffer): void {
    const len = this.body === null ? 0 : this.body.length;
    this.protocolError(`SCGI: ${extra.length} byte(s) after the ${len}-byte body (one request per connection: they are not read as a request)`);
  }

  /** The response is complete (ScgiSink.end): read on, dropping an unread body, to see trailing bytes and the peer's close. */
  responseEnded(): void {
    this.state = 'linger';
    if (this.body !== null) this.body.discard();
    else this.socket.resume();
  }

  private refuse(head: ScgiHead, err: unknown): void {
    const status = err instanceof TsgiError ? err.status : 400;
    const code = err instanceof TsgiError ? err.code : 'TSGI_ERR_BAD_REQUEST';
    const what = `${head.headers.REQUEST_METHOD ?? '?'} ${(head.headers.REQUEST_URI ?? head.headers.PATH_INFO ?? '').slice(0, 200)}`;
    this.s.log.log('warn', `refused SCGI request ${what} from ${this.peer()}: ${(err as Error).message} (${code})`);
    const text = Buffer.from(status === 404 ? 'Not Found\n' : 'Bad Request\n');
    const sink = new ScgiSink(this.socket, this);
    sink.start(status, status === 404 ? 'Not Found' : 'Bad Request', [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', String(text.length)],
    ]);
    sink.end(text);
  }

  private startRequest(head: ScgiHead, rest: Buffer): void {
    this.state = 'request';
    const body = (this.body = head.contentLength > 0 ? new SocketBody(this.socket, head.contentLength, this.s.bodyHighWater) : null);
    const extra = body === null ? rest : body.push(rest);
    if (extra.length > 0) return this.trailing(extra);
    let cgi: CgiVars;
    try {
      cgi = cgiFromGateway(scgiParams(head.headers), { scriptName: this.s.scriptName });
    } catch (err) {
      return this.refuse(head, err);
    }
    const sink = new ScgiSink(this.socket, this);
    try {
      const done = this.s.dispatcher.dispatch({ cgi, body }, sink);
      if (done !== undefined) done.then(() => this.settled(), (err) => this.dispatchFailed(err));
      else this.settled();
    } catch (err) {
      this.dispatchFailed(err);
    }
  }

  /** The core returned; without the response ended (aborted, or the peer left) there is nothing more to say. */
  private settled(): void {
    if (this.state !== 'linger') this.socket.destroy();
  }

  private dispatchFailed(err: unknown): void {
    this.s.log.log('error', `SCGI dispatch failed for ${this.peer()}`, err);
    this.socket.destroy();
  }

  onData(chunk: Buffer): void {
    if (this.failed) return;
    this.sawBytes = true;
    if (this.state === 'head') {
      let parsed;
      try {
        parsed = this.parser.push(chunk);
      } catch (err) {
        return this.protocolError((err as Error).message);
      }
      if (parsed !== null) this.startRequest(parsed.head, parsed.rest);
      return;
    }
    const extra = this.body === null ? chunk : this.body.push(chunk);
    if (extra.length > 0) this.trailing(extra);
  }

  onEnd(): void {
    if (this.state === 'head') {
      if (this.sawBytes) this.protocolError('SCGI: the connection was closed in the middle of the request head');
      else this.socket.destroy();
    } else if (this.body !== null && !this.body.complete) {
      this.body.fail(truncatedBody(this.body.received, this.body.length, this.peer()));
    }
  }

  onError(err: Error): void {
    // Resets from the peer are routine (the web server gave up on its client); the close handler cleans up.
    this.body?.fail(new TsgiError('TSGI_ERR_INPUT_CLOSED', `the SCGI connection from ${this.peer()} failed: ${err.message}`, { status: 400, cause: err }));
  }

  onClose(): void {
    this.state = 'closed';
    this.sweeper.delete(this);
    const body = this.body;
    body?.fail(truncatedBody(body.received, body.length, this.peer()));
    const waiters = this.closeWaiters;
    this.closeWaiters = null;
    if (waiters !== null) for (const cb of waiters) cb();
  }
}

/**
 * Serve one SCGI request on `socket` (a fresh connection, or one handed over by protocol=auto with the
 * bytes it peeked pushed back by `socket.unshift`). The socket should allow half-open connections
 * (`allowHalfOpen: true`): a web server may shut down its sending side after the request and still wait for
 * the response.
 */
export function handleScgiConnection(socket: Socket, dispatcher: Dispatcher, opts: ScgiConnectionOptions = {}): ScgiConnection {
  return new Connection(socket, settingsOf(dispatcher, opts));
}
