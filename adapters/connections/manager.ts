/**
 * The connections of one stream front (HTTP/1.1, HTTP/2, FastCGI, SCGI), their timeouts and their drain,
 * written once. A front's connection class extends ManagedConnection and says where it is with `enter()`:
 *
 * - HEAD: the request head is being read. `headerTimeout` counts from the phase start (slowloris);
 *   `idleTimeout` closes it when no byte moves.
 * - REQUEST: a request is in flight. `bodyTimeout` closes it when no byte moves (a stalled upload, a client
 *   that stopped reading, an app that never answers); `requestTimeout` bounds the time until the request
 *   body is in (`requestReceived()`).
 * - IDLE: between requests (keep-alive). `keepAliveTimeout` and `idleTimeout` close it when no byte moves.
 * - LINGER: the response is written; once it is flushed, `lingerTimeout` bounds the wait for the peer's close.
 *
 * One sweep timer per manager checks them all: no timer and no closure per connection. Node's
 * `socket.setTimeout()` re-arms a timer on every read and write (~10% of the CPU of a hello-world HTTP
 * server; the SCGI front got its speed back by dropping three timers per socket). "No byte moved" is read
 * from the socket's byte counters at each sweep. A timeout fires up to a quarter of itself late (the
 * sweep period is a quarter of the shortest timeout, at most 1 s); the timer stops when no connection is
 * left, so an idle server does not wake.
 *
 * `drain()` is the graceful stop every front shares: idle connections close at once, a connection reading
 * its first head gets `freshMs` to finish it (under load, a client's request may be in the kernel buffer
 * of a just-accepted socket), requests in flight get the grace period and their connections close as soon
 * as they go idle; then whatever is left is destroyed.
 */
import type { Socket } from 'node:net';

/** Reading a request head. */
export const HEAD = 0;
/** A request in flight. */
export const REQUEST = 1;
/** Between requests (keep-alive). */
export const IDLE = 2;
/** Response written; waiting for the peer to close. */
export const LINGER = 3;
/** Where a connection is. */
export type Phase = typeof HEAD | typeof REQUEST | typeof IDLE | typeof LINGER;

/** Which timeout closed a connection (the argument of ManagedConnection.timedOut). */
export type TimeoutKind = 'header' | 'idle' | 'body' | 'request' | 'keepAlive' | 'linger';

/** Timeouts in milliseconds; 0 or absent = off. */
export interface ConnectionTimeouts {
  /** HEAD: the whole head must arrive within this time. */
  headerTimeout?: number;
  /** HEAD and IDLE: no byte moved for this long. */
  idleTimeout?: number;
  /** REQUEST (and LINGER before the response is flushed): no byte moved for this long. */
  bodyTimeout?: number;
  /** REQUEST: the request body must be in within this time. */
  requestTimeout?: number;
  /** IDLE: no byte moved for this long (usually shorter than idleTimeout). */
  keepAliveTimeout?: number;
  /** LINGER: after the response is flushed, the peer must close within this time. */
  lingerTimeout?: number;
}

/** A connection a ConnectionManager watches. Subclasses call `enter()` on each phase change and `left()` on close. */
export abstract class ManagedConnection {
  /** Where the connection is now. */
  phase: Phase;
  /** When `phase` was entered (Date.now()), for the phases with a deadline (HEAD, REQUEST); see enter(). */
  phaseSince: number;
  /** Socket bytes read + written at the last sweep that saw them change, and when. */
  progressBytes = 0;
  progressAt: number;
  /** LINGER: when a sweep first saw the response flushed; 0 before. */
  flushedAt = 0;
  /** IDLE: socket bytes read when the phase was entered (a new head starting turns IDLE into HEAD). */
  readMark = 0;
  /** True once drain() was told about it going idle or being fresh. */
  private gone = false;

  constructor(
    /** The socket whose bytes count as progress and which is destroyed on a timeout. */
    readonly socket: Socket,
    protected readonly manager: ConnectionManager,
    phase: Phase,
  ) {
    this.phase = phase;
    this.phaseSince = this.progressAt = Date.now();
    manager.add(this);
  }

  /**
   * Move to `phase`. The clock is read only when the phase has a deadline that counts from its start
   * (headerTimeout, requestTimeout): the others count from the last byte moved, which the sweep sees, so a
   * FastCGI request (three phase changes) costs no clock read. Entering IDLE while the manager drains
   * closes the connection (closeIdle).
   */
  protected enter(phase: Phase): void {
    this.phase = phase;
    const m = this.manager;
    if (phase === HEAD ? m.headerTimeout > 0 : phase === REQUEST && m.requestTimeout > 0) this.phaseSince = Date.now();
    if (phase === IDLE) {
      if (this.manager.watchIdleReads) this.readMark = this.socket.bytesRead;
      if (this.manager.draining && !this.gone) {
        this.gone = true;
        this.closeIdle();
      }
    }
  }

  /** Call when the socket has closed: the manager forgets the connection. */
  protected left(): void {
    this.manager.remove(this);
  }

  /** REQUEST: true once the whole request body is in (requestTimeout stops). Default true. */
  requestReceived(): boolean {
    return true;
  }

  /** A timeout expired: by default the socket is destroyed. Fronts override to log or fail a body first. */
  timedOut(_kind: TimeoutKind, _ms: number): void {
    this.socket.destroy();
  }

  /** Close a connection with no request in flight, gracefully (drain). Default: end the socket. */
  closeIdle(): void {
    this.socket.end();
  }

  /** Close now, whatever is in flight (the end of a drain's grace period). */
  destroy(): void {
    this.socket.destroy();
  }

  /** Drain has begun: called once on every connection it finds, before anything is closed. Default: nothing. */
  drainStarted(): void {}

  /** drain(): called for a connection found IDLE or still fresh after freshMs. */
  drainIdle(): void {
    if (this.gone) return;
    this.gone = true;
    this.closeIdle();
  }
}

/** Options of a manager: its timeouts and what the front wants logged. */
export interface ManagerOptions extends ConnectionTimeouts {
  /**
   * IDLE connections that read bytes are moved back to HEAD (so headerTimeout applies to the next head of a
   * keep-alive connection). For fronts whose parser does not tell the start of a head (Node's HTTP parser).
   */
  idleReadsStartHead?: boolean;
}

const on = (ms: number | undefined): number => (ms !== undefined && ms > 0 ? ms : 0);

/** The live connections of one front, with one sweep timer for all their timeouts. */
export class ConnectionManager {
  private readonly live = new Set<ManagedConnection>();
  private timer: NodeJS.Timeout | null = null;
  private readonly period: number;
  readonly headerTimeout: number;
  readonly idleTimeout: number;
  readonly bodyTimeout: number;
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  readonly lingerTimeout: number;
  /** See ManagerOptions.idleReadsStartHead. */
  readonly watchIdleReads: boolean;
  /** True from drain() on: connections entering IDLE close. */
  draining = false;
  private drained: (() => void) | null = null;

  constructor(opts: ManagerOptions = {}) {
    this.headerTimeout = on(opts.headerTimeout);
    this.idleTimeout = on(opts.idleTimeout);
    this.bodyTimeout = on(opts.bodyTimeout);
    this.requestTimeout = on(opts.requestTimeout);
    this.keepAliveTimeout = on(opts.keepAliveTimeout);
    this.lingerTimeout = on(opts.lingerTimeout);
    this.watchIdleReads = opts.idleReadsStartHead === true;
    const all = [this.headerTimeout, this.idleTimeout, this.bodyTimeout, this.requestTimeout, this.keepAliveTimeout, this.lingerTimeout].filter((t) => t > 0);
    this.period = all.length === 0 ? 0 : Math.max(10, Math.min(Math.floor(Math.min(...all) / 4), 1000));
  }

  /** Connections open now. */
  get size(): number {
    return this.live.size;
  }

  /** The connections open now (for a front that must reach each one, e.g. HTTP/2 sessions on stop). */
  connections(): IterableIterator<ManagedConnection> {
    return this.live.values();
  }

  /** Called by ManagedConnection's constructor. */
  add(conn: ManagedConnection): void {
    this.live.add(conn);
    if (this.draining) conn.drainStarted();
    if (this.timer !== null || this.period === 0) return;
    this.timer = setInterval(this.sweep, this.period);
    this.timer.unref();
  }

  /** Called by ManagedConnection.left(). */
  remove(conn: ManagedConnection): void {
    if (!this.live.delete(conn)) return;
    if (this.live.size === 0 && this.drained !== null) this.drained();
  }

  private readonly sweep = (): void => {
    if (this.live.size === 0) {
      clearInterval(this.timer!);
      this.timer = null;
      return;
    }
    const now = Date.now();
    for (const c of this.live) this.check(c, now);
  };

  private check(c: ManagedConnection, now: number): void {
    const socket = c.socket;
    if (socket.destroyed) return;
    const bytes = socket.bytesRead + socket.bytesWritten;
    const moved = bytes !== c.progressBytes;
    if (moved) {
      c.progressBytes = bytes;
      c.progressAt = now;
    }
    const quiet = now - c.progressAt;
    switch (c.phase) {
      case HEAD:
        if (this.headerTimeout > 0 && now - c.phaseSince >= this.headerTimeout) return c.timedOut('header', this.headerTimeout);
        if (this.idleTimeout > 0 && quiet >= this.idleTimeout) return c.timedOut('idle', this.idleTimeout);
        return;
      case REQUEST:
        if (this.requestTimeout > 0 && now - c.phaseSince >= this.requestTimeout && !c.requestReceived()) return c.timedOut('request', this.requestTimeout);
        if (this.bodyTimeout > 0 && quiet >= this.bodyTimeout) return c.timedOut('body', this.bodyTimeout);
        return;
      case IDLE: {
        if (this.watchIdleReads && moved && socket.bytesRead !== c.readMark) {
          // The next request's head has begun: its deadline counts from now.
          c.phase = HEAD;
          c.phaseSince = now;
          return;
        }
        // The response that ended the last request moved bytes, so `quiet` counts from about its end.
        if (this.keepAliveTimeout > 0 && quiet >= this.keepAliveTimeout) return c.timedOut('keepAlive', this.keepAliveTimeout);
        if (this.idleTimeout > 0 && quiet >= this.idleTimeout) return c.timedOut('idle', this.idleTimeout);
        return;
      }
      case LINGER:
        if (socket.writableFinished) {
          if (c.flushedAt === 0) c.flushedAt = now;
          else if (this.lingerTimeout > 0 && now - c.flushedAt >= this.lingerTimeout) c.timedOut('linger', this.lingerTimeout);
        } else if (this.bodyTimeout > 0 && quiet >= this.bodyTimeout) c.timedOut('body', this.bodyTimeout);
        return;
    }
  }

  /**
   * The graceful stop (the listener must already be closed): IDLE connections close at once, HEAD ones after
   * `freshMs` if still there, the others as soon as they go IDLE; after `graceMs` every connection left is
   * destroyed (`onForce` is told how many first). Resolves when none is left.
   */
  drain(graceMs: number, onForce?: (count: number) => void, freshMs = Math.min(1000, graceMs)): Promise<void> {
    this.draining = true;
    for (const c of this.live) c.drainStarted();
    for (const c of this.live) if (c.phase === IDLE) c.drainIdle();
    if (this.live.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const fresh = setTimeout(() => {
        for (const c of this.live) if (c.phase === HEAD || c.phase === IDLE) c.drainIdle();
      }, freshMs);
      const force = setTimeout(() => {
        if (this.live.size === 0) return;
        onForce?.(this.live.size);
        for (const c of this.live) c.destroy();
      }, graceMs);
      fresh.unref();
      force.unref();
      this.drained = () => {
        clearTimeout(fresh);
        clearTimeout(force);
        this.drained = null;
        resolve();
      };
      if (this.live.size === 0) this.drained();
    });
  }
}
