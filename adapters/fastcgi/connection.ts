/**
 * One FastCGI transport connection: reads records, keeps the state of each request id (spec 3.3), runs
 * requests through the Dispatcher, manages FCGI_KEEP_CONN, multiplexing, FCGI_ABORT_REQUEST and the
 * management records.
 *
 * Strictness: anything a conforming web server never sends (bad version, wrong BEGIN length, STDIN before
 * the end of PARAMS, a request id that was never begun, oversized params, too many concurrent requests...)
 * closes this connection with one TSGI_ERR_PROTOCOL log line naming what and who; other connections and
 * the process are untouched. One leniency, from the spec: records for a request id we already answered
 * with END_REQUEST are ignored, because a web server may still be sending STDIN for a request the app
 * answered early (or one we refused with FCGI_UNKNOWN_ROLE).
 */
import { ClientGone } from '../../gateway/core/client-gone.js';
import type { Socket } from 'node:net';
import { tsgiError } from '../../app-api/errors.js';
import type { CgiVars } from '../../app-api/types.js';
import type { Dispatcher, RequestHead } from '../../gateway/core/dispatch.js';
import { CgiObject } from '../../gateway/core/cgi-object.js';
import { cgiFromGateway } from '../../gateway/core/environ.js';
import { BodyInput } from '../../app-api/input.js';
import type { ErrorLog } from '../../gateway/core/log.js';
import { RecordStream, type FlowControl } from './body.js';
import { encodeParams, ParamEncodingError, parseParams } from './params.js';
import {
  encodeEndRequest,
  encodeRecord,
  encodeUnknownType,
  FCGI_ABORT_REQUEST,
  FCGI_AUTHORIZER,
  FCGI_BEGIN_REQUEST,
  FCGI_DATA,
  FCGI_FILTER,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_KEEP_CONN,
  FCGI_OVERLOADED,
  FCGI_PARAMS,
  FCGI_REQUEST_COMPLETE,
  FCGI_RESPONDER,
  FCGI_STDIN,
  FCGI_UNKNOWN_ROLE,
  FCGI_UNKNOWN_TYPE,
  RecordError,
  RecordReader,
  recordName,
  type RawRecord,
} from './records.js';
import { FastcgiSink, type SinkHost, type SinkState } from './sink.js';
import { refuseConnection, refuseRequest } from '../refuse.js';
import { HEAD, IDLE, ManagedConnection, REQUEST, type ConnectionManager, type TimeoutKind } from '../connections/manager.js';
import { bodyTimedOut, checkCgiHead, checkDeclaredBody, LimitedBody, type RequestLimits } from '../../gateway/core/limits.js';

/** Limits and settings of a connection (the server fills in defaults). */
export interface ConnectionSettings {
  dispatcher: Dispatcher;
  log: ErrorLog;
  /** Mount point, passed to cgiFromGateway. */
  scriptName?: string;
  /** Concurrent requests on one connection; one more is a protocol error. */
  maxRequestsPerConnection: number;
  /** Total FCGI_PARAMS bytes of one request; past it the params are dropped as they come and the request is answered 431. */
  maxParamsBytes: number;
  /** Request line, header and body limits (gateway/core/limits.ts). */
  limits: RequestLimits;
  /** Input bytes queued per stream before the socket is paused. */
  inputHighWaterMark: number;
  /** Answers to FCGI_GET_VALUES. */
  values: { maxConns: number; maxReqs: number };
}

/**
 * Params of requests not yet started that one connection may hold, in limitParamsSize units: the web servers
 * (nginx, Apache, lighttpd) send one request at a time per connection, so 2 leaves room and bounds what a
 * peer that begins many requests and never ends their params can make the process hold.
 */
const HELD_PARAMS_REQUESTS = 2;

const ROLE_NAMES: Record<number, string> = { [FCGI_RESPONDER]: 'RESPONDER', [FCGI_AUTHORIZER]: 'AUTHORIZER', [FCGI_FILTER]: 'FILTER' };

/** One request id's state. */
class FcgiRequest implements SinkState {
  closed = false;
  /** 'params' until the empty FCGI_PARAMS record, then 'running'. */
  running = false;
  stdinDone = false;
  dataDone = false;
  paramsChunks: Buffer[] = [];
  paramsBytes = 0;
  /** Bytes in paramsChunks (counted in the connection's paramsHeld). */
  paramsHeld = 0;
  /** The params went over maxParamsBytes: answered 431 at their end, nothing of them kept. */
  paramsOverflow = false;
  /** Its stalled FCGI_STDIN was failed by the body timeout. */
  bodyTimedOut = false;
  stdin: RecordStream | null = null;
  data: RecordStream | null = null;
  /** tsgi.client_gone: FCGI_ABORT_REQUEST or the connection's close. */
  gone: ClientGone | null = null;
  constructor(
    readonly requestId: number,
    readonly role: number,
    readonly keepConn: boolean,
  ) {}
}

/** A FastCGI connection. Created by the server for each accepted socket (or handed one by protocol=auto). */
export class FcgiConnection extends ManagedConnection implements SinkHost, FlowControl {
  private readonly reader = new RecordReader();
  private readonly requests = new Map<number, FcgiRequest>();
  /** Ids answered with END_REQUEST and not begun again: their records are ignored (spec 3.3). */
  private readonly finished = new Set<number>();
  private inflight = 0;
  /** Bytes of params held for requests not yet started, on this connection (HELD_PARAMS_REQUESTS). */
  private paramsHeld = 0;
  /** Requests whose params are complete and whose response has not ended. */
  private running = 0;
  private holds = 0;
  private corked = false;
  private dead = false;
  private shuttingDown = false;
  private closeWhenIdle = false;
  private drainWait: Promise<void> | null = null;
  private drainResolve: (() => void) | null = null;

  /**
   * Timeouts come from `manager` (createFastcgiHandler): the idle timeout applies while no request runs,
   * including a web server that stalls in the middle of FCGI_PARAMS; a slow app is not idle.
   */
  constructor(socket: Socket, manager: ConnectionManager, private readonly settings: ConnectionSettings) {
    super(socket, manager, IDLE);
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', () => {
      /* ECONNRESET and the like: 'close' follows and cleans up */
    });
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.wakeDrain());
  }

  /** Drain: new requests are answered FCGI_OVERLOADED; the connection closes once nothing is active. */
  override drainStarted(): void {
    this.shuttingDown = true;
  }

  override closeIdle(): void {
    if (!this.socket.writableEnded) this.socket.end();
  }

  /**
   * bodyTimeout: nothing moved on the connection while requests run. Each request still waiting for its
   * FCGI_STDIN (a declared body that never came) fails its read with 408, which the core answers if the
   * response has not begun; the connection and its other requests go on. A slow app whose body is in is
   * not idle (the web server has its own read timeout). headerTimeout: FCGI_PARAMS not complete in time
   * (a peer dripping params is never idle): logged, and the connection closed.
   */
  override timedOut(kind: TimeoutKind, ms: number): void {
    if (kind === 'header') this.settings.log.log('warn', `FastCGI connection from ${this.peer()}: FCGI_PARAMS not complete within ${ms} ms of FCGI_BEGIN_REQUEST (headerTimeout); closed`);
    if (kind !== 'body') return super.timedOut(kind, ms);
    for (const req of this.requests.values()) {
      if (!req.running || req.stdinDone || req.stdin === null || req.bodyTimedOut) continue;
      req.bodyTimedOut = true;
      this.settings.log.log('warn', `FastCGI request ${req.requestId} from ${this.peer()}: no FCGI_STDIN for ${ms} ms (bodyTimeout); its body read fails with 408 (TSGI_ERR_TIMEOUT)`);
      req.stdin.fail(bodyTimedOut(ms, this.peer()));
    }
  }

  // ---- input ----

  private onData(data: Buffer): void {
    if (this.dead) return;
    try {
      this.reader.push(data, this.onRecord);
    } catch (err) {
      if (err instanceof RecordError) this.protocolError(err.message);
      else throw err;
    }
  }

  private readonly onRecord = (rec: RawRecord): boolean => {
    if (rec.requestId === 0) this.onManagement(rec);
    else this.onRequestRecord(rec);
    return !this.dead;
  };

  private onManagement(rec: RawRecord): void {
    const { type, content } = rec;
    if (type === FCGI_GET_VALUES) {
      let asked: CgiVars;
      try {
        asked = parseParams(content);
      } catch (err) {
        this.protocolError(`FCGI_GET_VALUES body: ${(err as Error).message}`);
        return;
      }
      const known: Record<string, string> = {
        FCGI_MAX_CONNS: String(this.settings.values.maxConns),
        FCGI_MAX_REQS: String(this.settings.values.maxReqs),
        FCGI_MPXS_CONNS: '1',
      };
      const answer: [string, string][] = [];
      for (const name of Object.keys(asked)) if (known[name] !== undefined) answer.push([name, known[name]]);
      this.send(encodeRecord(FCGI_GET_VALUES_RESULT, 0, encodeParams(answer)));
    } else if (type >= FCGI_BEGIN_REQUEST && type <= FCGI_UNKNOWN_TYPE) {
      this.protocolError(`${recordName(type)} with request id 0 (reserved for management records)`);
    } else {
      // Spec 4.2: a management record type we do not know gets FCGI_UNKNOWN_TYPE; the connection goes on.
      this.send(encodeUnknownType(type));
    }
  }

  private onRequestRecord(rec: RawRecord): void {
    const { type, requestId: id, content } = rec;
    const req = this.requests.get(id);
    switch (type) {
      case FCGI_BEGIN_REQUEST:
        this.begin(id, content, req);
        return;
      case FCGI_ABORT_REQUEST:
        if (req === undefined) return this.unknownId(id, type);
        this.abortRequest(req);
        return;
      case FCGI_PARAMS:
        if (req === undefined) return this.unknownId(id, type);
        if (req.running) return this.protocolError(`FCGI_PARAMS for request ${id} after its empty end-of-params record`);
        if (content.length === 0) return this.start(req);
        req.paramsBytes += content.length;
        if (req.paramsOverflow) return;
        if (req.paramsBytes > this.settings.maxParamsBytes) {
          // Too large to run, but well framed: drop what came and answer 431 at the end of the params, so the
          // web server's connection (and its other requests) goes on. Nothing past the limit is ever held.
          req.paramsOverflow = true;
          this.dropParams(req);
          return;
        }
        req.paramsChunks.push(content);
        req.paramsHeld += content.length;
        this.paramsHeld += content.length;
        if (this.paramsHeld > this.settings.maxParamsBytes * HELD_PARAMS_REQUESTS) {
          return this.protocolError(`FCGI_PARAMS of requests not yet started hold more than ${HELD_PARAMS_REQUESTS} x limitParamsSize (${this.settings.maxParamsBytes} bytes) on one connection`);
        }
        return;
      case FCGI_STDIN:
        if (req === undefined) return this.unknownId(id, type);
        if (!req.running) return this.protocolError(`FCGI_STDIN for request ${id} before the end of its FCGI_PARAMS`);
        if (req.stdinDone) return this.protocolError(`FCGI_STDIN for request ${id} after its end-of-stream record`);
        if (content.length === 0) {
          req.stdinDone = true;
          req.stdin?.end();
        } else req.stdin?.push(content);
        return;
      case FCGI_DATA:
        if (req === undefined) return this.unknownId(id, type);
        if (req.role !== FCGI_FILTER) return this.protocolError(`FCGI_DATA for request ${id}, whose role is ${ROLE_NAMES[req.role]}, not FILTER`);
        if (!req.running) return this.protocolError(`FCGI_DATA for request ${id} before the end of its FCGI_PARAMS`);
        if (req.dataDone) return this.protocolError(`FCGI_DATA for request ${id} after its end-of-stream record`);
        if (content.length === 0) {
          req.dataDone = true;
          req.data?.end();
        } else req.data?.push(content);
        return;
      default:
        this.protocolError(`${recordName(type)} (request ${id}) is not a record a web server sends`);
    }
  }

  private unknownId(id: number, type: number): void {
    if (this.finished.has(id)) return; // spec 3.3: an inactive id's records are ignored
    this.protocolError(`${recordName(type)} for request id ${id}, which has no FCGI_BEGIN_REQUEST`);
  }

  private begin(id: number, content: Buffer, existing: FcgiRequest | undefined): void {
    if (content.length !== 8) return this.protocolError(`FCGI_BEGIN_REQUEST with ${content.length} content bytes (must be 8)`);
    if (existing !== undefined) return this.protocolError(`FCGI_BEGIN_REQUEST for request id ${id}, which is still active`);
    if (this.requests.size >= this.settings.maxRequestsPerConnection) {
      return this.protocolError(`more than ${this.settings.maxRequestsPerConnection} concurrent requests on one connection (maxRequestsPerConnection)`);
    }
    const role = (content[0] << 8) | content[1];
    const keepConn = (content[2] & FCGI_KEEP_CONN) !== 0;
    this.finished.delete(id);
    if (!keepConn) this.closeWhenIdle = true;
    if (role !== FCGI_RESPONDER && role !== FCGI_AUTHORIZER && role !== FCGI_FILTER) {
      this.endWithoutResponse(id, FCGI_UNKNOWN_ROLE);
      return;
    }
    if (this.shuttingDown) {
      this.endWithoutResponse(id, FCGI_OVERLOADED);
      return;
    }
    this.requests.set(id, new FcgiRequest(id, role, keepConn));
    if (this.phase === IDLE) this.enter(HEAD);
  }

  /** END_REQUEST with a protocol status, for a request that never ran. */
  private endWithoutResponse(id: number, protocolStatus: number): void {
    this.send(encodeEndRequest(id, 0, protocolStatus));
    this.finished.add(id);
    this.maybeClose();
  }

  /** The empty FCGI_PARAMS record arrived: build the request head and dispatch. */
  private start(req: FcgiRequest): void {
    req.running = true;
    if (this.running++ === 0 && this.phase !== REQUEST) this.enter(REQUEST);
    if (req.paramsOverflow) {
      return this.refuse(req, tsgiError('TSGI_ERR_HEADERS_TOO_LARGE', { problem: `FCGI_PARAMS of ${req.paramsBytes} bytes, over limitParamsSize ${this.settings.maxParamsBytes}` }));
    }
    const raw = req.paramsChunks.length === 1 ? req.paramsChunks[0] : Buffer.concat(req.paramsChunks, req.paramsBytes);
    this.dropParams(req);
    let params: CgiVars;
    try {
      params = parseParams(raw, new CgiObject());
    } catch (err) {
      if (err instanceof ParamEncodingError) return this.refuse(req, err);
      return this.protocolError(`FCGI_PARAMS of request ${req.requestId}: ${(err as Error).message}`);
    }
    let cgi: CgiVars;
    try {
      cgi = cgiFromGateway(params, { scriptName: this.settings.scriptName, prefiltered: true });
      checkCgiHead(this.settings.limits, cgi);
      checkDeclaredBody(this.settings.limits, cgi.CONTENT_LENGTH);
    } catch (err) {
      return this.refuse(req, err);
    }

    const hwm = this.settings.inputHighWaterMark;
    let body: RecordStream | null = null;
    let extra: Record<string, unknown> | undefined;
    if (req.role === FCGI_AUTHORIZER) {
      // Authorizers get no body (spec 6.3); STDIN records, if a server sends any, are dropped.
      extra = { 'tsgi.fcgi_role': 'AUTHORIZER' };
    } else {
      req.stdin = body = new RecordStream(this, hwm);
      if (req.role === FCGI_FILTER) {
        req.data = new RecordStream(this, hwm);
        extra = { 'tsgi.fcgi_role': 'FILTER', 'tsgi.fcgi_data': new BodyInput(req.data) };
      }
    }
    const max = this.settings.limits.maxBodySize;
    const input = body !== null && max > 0 ? new LimitedBody(body, max) : body;
    const head: RequestHead = { cgi, body: cgi.CONTENT_LENGTH === '0' ? null : input, clientGone: (req.gone = new ClientGone()) };
    if (extra !== undefined) head.extra = extra;
    this.dispatch(head, req);
  }

  private dispatch(head: RequestHead, req: FcgiRequest): void {
    const sink = new FastcgiSink(this, req);
    this.inflight++;
    let pending: void | Promise<void> = undefined;
    try {
      pending = this.settings.dispatcher.dispatch(head, sink);
    } catch (err) {
      // Dispatchers never throw; if one does, the request must still end.
      this.settings.log.log('error', `dispatcher failed for FastCGI request ${req.requestId}`, err);
      if (!sink.closed) sink.abort(err instanceof Error ? err : new Error(String(err)));
    }
    if (pending !== undefined && typeof (pending as Promise<void>).then === 'function') {
      (pending as Promise<void>).then(() => this.dispatched(), () => this.dispatched());
    } else this.dispatched();
  }

  private dispatched(): void {
    this.inflight--;
    this.maybeClose();
  }

  /** A request the gateway refuses before the app (path not UTF-8, outside the mount): 400/404 through a sink. */
  private refuse(req: FcgiRequest, err: unknown): void {
    refuseRequest(new FastcgiSink(this, req), this.settings.log, err, { what: `FastCGI request ${req.requestId}`, peer: this.peer() });
  }

  /** FCGI_ABORT_REQUEST: the client went away. The sink reads closed, the body stops, END_REQUEST goes out. */
  private abortRequest(req: FcgiRequest): void {
    req.closed = true;
    const why = 'the web server aborted this request (FCGI_ABORT_REQUEST): the client went away';
    const gone = tsgiError('TSGI_ERR_INPUT_CLOSED', { problem: why });
    req.gone?.gone(why);
    req.stdin?.fail(gone);
    req.data?.fail(gone);
    this.send(encodeEndRequest(req.requestId, 0, FCGI_REQUEST_COMPLETE));
    this.requestEnded(req.requestId);
  }

  // ---- SinkHost ----

  send(buf: Buffer, whole = false): boolean {
    if (this.dead) return true;
    if (!this.corked) {
      // A whole response in one buffer has nothing to coalesce with: write it now, without the cork, the
      // nextTick and the Writable's buffering round trip.
      if (whole) return this.socket.write(buf);
      // Cork for the rest of this tick: records of several writes (or requests) leave in one writev.
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    return this.socket.write(buf);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    if (!this.socket.destroyed) this.socket.uncork();
  };

  drained(): Promise<void> {
    if (this.dead) return Promise.resolve();
    if (this.drainWait === null) {
      this.drainWait = new Promise((resolve) => {
        this.drainResolve = resolve;
      });
    }
    return this.drainWait;
  }

  private wakeDrain(): void {
    const resolve = this.drainResolve;
    this.drainWait = null;
    this.drainResolve = null;
    resolve?.();
  }

  requestEnded(requestId: number): void {
    const req = this.requests.get(requestId);
    if (req === undefined) return;
    req.closed = true;
    this.requests.delete(requestId);
    this.dropParams(req);
    if (req.running) this.running--;
    this.finished.add(requestId);
    // Whatever input the app did not read is dropped, and still-arriving STDIN is ignored.
    req.stdin?.discard();
    req.data?.discard();
    this.maybeClose();
  }

  abortConnection(requestId: number, err: Error): void {
    if (this.dead) return;
    this.settings.log.log('warn', `closing the FastCGI connection from ${this.peer()} so the web server sees request ${requestId} as incomplete: ${err.message}`);
    this.socket.destroy();
  }

  // ---- FlowControl ----

  hold(): void {
    if (this.holds++ === 0) this.socket.pause();
  }

  release(): void {
    if (--this.holds === 0 && !this.dead) this.socket.resume();
  }

  // ---- lifecycle ----

  /** Close the connection once nothing is active, if the web server asked (no KEEP_CONN) or we are stopping. */
  private maybeClose(): void {
    if (this.dead) return;
    if (this.inflight === 0 && this.running === 0) {
      const phase = this.requests.size > 0 ? HEAD : IDLE;
      if (this.phase !== phase) this.enter(phase);
    }
    if (this.requests.size > 0) return;
    if (this.closeWhenIdle || (this.shuttingDown && this.inflight === 0)) this.closeIdle();
  }

  /** The request's params are parsed, dropped or gone: they no longer count against the connection. */
  private dropParams(req: FcgiRequest): void {
    this.paramsHeld -= req.paramsHeld;
    req.paramsHeld = 0;
    req.paramsChunks = [];
  }

  private protocolError(what: string): void {
    if (this.dead) return;
    refuseConnection(this.socket, this.settings.log, `FastCGI protocol error: ${what}`, this.peer(), 'warn');
    this.onClose();
  }

  private peer(): string {
    const s = this.socket;
    if (s.remoteAddress !== undefined) return s.remotePort !== undefined ? `${s.remoteAddress}:${s.remotePort}` : s.remoteAddress;
    const local = (s as unknown as { server?: { address(): unknown } }).server?.address?.();
    return typeof local === 'string' ? `a peer on unix socket ${local}` : 'a peer on a unix socket';
  }

  private onClose(): void {
    if (this.dead) return;
    this.dead = true;
    const gone = tsgiError('TSGI_ERR_INPUT_CLOSED', { problem: 'the web server closed the FastCGI connection before the request body was complete' });
    for (const req of this.requests.values()) {
      req.closed = true;
      req.stdin?.fail(gone);
      req.data?.fail(gone);
      req.gone?.gone('the web server closed the FastCGI connection before the response was done');
      this.dropParams(req);
    }
    this.requests.clear();
    this.running = 0;
    this.wakeDrain();
    this.left();
  }
}
