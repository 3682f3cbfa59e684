/**
 * forking: a new process per connection. The parent accepts (paused, so it never reads a byte) and sends
 * the socket to a child (`child.send(msg, socket)`); the child serves that connection's requests and exits
 * when it closes. Every connection gets a process that never served anything before.
 *
 * With several listeners (`[server]` and each `[server:NAME]`) the parent accepts on each, and the message
 * that carries a connection names its listener: the child serves it with that listener's front (protocol,
 * TLS, timeouts, scriptName, statusPath). Any waiting child can take a connection of any listener.
 *
 * To keep the fork (about the cost of a Node start plus importing the app) off the request's path, a few
 * children are forked ahead of need (spareChildren): they import the app and wait. The number of children
 * is bounded (maxChildren): past it, the connection is answered 503 with Retry-After by the parent (in the
 * listener's protocol: HTTP, SCGI, FastCGI) and closed, rather than queued without bound.
 */
import net from 'node:net';
import type { ListenerUrl } from '../listeners.js';
import type { ErrorLog } from '../core/log.js';
import { getFront } from '../fronts/registry.js';
import { clearStaleUnixSocket } from './listen-socket.js';
import { planListeners, type PlanListener, type WorkerPlan } from './plan.js';
import { startWatchdog, ProcessSlot } from './worker-slot.js';
import { BootBackoff } from '../workers/slot.js';

/** Options of the forking server. */
export interface ForkingOptions {
  plan: Omit<WorkerPlan, 'mode'>;
  /** Most children alive at once (serving, starting, or spare). */
  maxChildren: number;
  /** Children kept started and waiting for a connection. */
  spareChildren: number;
  log: ErrorLog;
  /** The worker entry script; default worker-main.js. */
  script?: string;
  /** Called with every child as it is forked (the metrics follow them). */
  onSpawn?: (slot: ProcessSlot) => void;
}

interface Child {
  slot: ProcessSlot;
  /** Has (or is about to get) its connection; never given another. */
  assigned: boolean;
}

/** One listening socket of the parent. */
interface Accepting {
  listener: PlanListener;
  server: net.Server;
  /** How to answer when no child can take a connection (per protocol: FrontDef.overloadReply), or null to just close. */
  overload: ((socket: net.Socket) => void) | null;
}

/** A running fork-per-connection server. */
export class ForkingServer {
  private readonly children = new Set<Child>();
  private readonly accepting: readonly Accepting[];
  private stopping: Promise<void> | null = null;
  /** Children that failed at boot in a row: delays topping up (100 ms x 2^n, at most 10 s). */
  private readonly backoff = new BootBackoff(200, 10_000);
  private topUpTimer: NodeJS.Timeout | undefined;
  private lastOverloadLog = 0;
  /** unready() was called: the server stops after drainDelay. */
  private stoppingSoon = false;
  private stopWatchdog: () => void = () => {};
  /** Where clients connect (`[server]`, the first listener). */
  url = '';
  /** The TCP port of `[server]` (0 for a unix socket). */
  port = 0;
  /** Every listener, `[server]` first, with where it listens. */
  listeners: readonly ListenerUrl[] = [];

  private constructor(private readonly opts: ForkingOptions) {
    this.accepting = planListeners(opts.plan).map((listener, index) => ({
      listener,
      server: net.createServer({ pauseOnConnect: true }, (socket) => this.onConnection(socket, index)),
      overload: getFront(listener.server.protocol).overloadReply(listener.server),
    }));
  }

  /** Start one child (an app that does not load fails here, before listening), then listen on every listener. */
  static async start(opts: ForkingOptions): Promise<ForkingServer> {
    const fs = new ForkingServer(opts);
    const first = fs.spawn();
    await first.slot.ready;
    try {
      for (const { listener, server } of fs.accepting) {
        const s = listener.server;
        if (s.socketFile !== undefined) await clearStaleUnixSocket(s.socketFile);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          const where = s.socketFd !== undefined ? { fd: s.socketFd } : s.socketFile !== undefined ? { path: s.socketFile } : { host: s.socketHost, port: s.socketPort };
          server.listen({ ...where, backlog: s.socketQueueSize }, () => {
            server.off('error', reject);
            resolve();
          });
        });
      }
    } catch (err) {
      await fs.stop(0);
      throw err;
    }
    fs.listeners = fs.accepting.map(({ listener: l, server }) => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      return { section: l.section, url: getFront(l.server.protocol).describe(l.server, { port, path: l.server.socketFile }) };
    });
    const addr = fs.accepting[0].server.address();
    fs.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    fs.url = fs.listeners[0].url;
    fs.stopWatchdog = startWatchdog(
      () => [...fs.children].map((c) => c.slot),
      opts.plan.timeoutMs,
      (slot, silent) => opts.log.log('error', `forked child ${slot.pid} gave no sign of life for ${silent} ms (workerTimeout ${opts.plan.timeoutMs} ms): killing it`),
    );
    fs.topUp();
    return fs;
  }

  /** Children alive now (serving, starting or spare). */
  get size(): number {
    return this.children.size;
  }

  private spawn(): Child {
    const slot = new ProcessSlot({ ...this.opts.plan, mode: 'fork' }, { script: this.opts.script });
    const child: Child = { slot, assigned: false };
    this.children.add(child);
    this.opts.onSpawn?.(slot);
    slot.onMessage = (m) => {
      // A request ran past workerTimeout: this child's connection is done for.
      if (m.tsgi === 'retire') void slot.drain(m.reason, this.opts.plan.graceMs);
    };
    slot.ready.then(
      () => this.backoff.succeeded(),
      () => {},
    );
    void slot.exited.then(({ code, signal }) => {
      this.children.delete(child);
      if (slot.exitCause === 'bootFailure') {
        this.backoff.failed();
        if (this.stopping === null) this.opts.log.log('error', `a forked child failed to start (${signal ?? `code ${code}`}); its error log above says why`);
      }
      this.topUp();
    });
    return child;
  }

  private idleSpares(): Child[] {
    return [...this.children].filter((c) => !c.assigned && c.slot.state !== 'draining' && c.slot.state !== 'exited');
  }

  /** Keep `spareChildren` children waiting (later, with a growing delay, while children fail at boot). */
  private topUp(): void {
    if (this.stopping !== null || this.topUpTimer !== undefined) return;
    const delay = this.backoff.delayMs();
    this.topUpTimer = setTimeout(() => {
      this.topUpTimer = undefined;
      if (this.stopping !== null) return;
      let spares = this.idleSpares().length;
      while (spares < this.opts.spareChildren && this.children.size < this.opts.maxChildren) {
        this.spawn();
        spares++;
      }
    }, delay);
  }

  private onConnection(socket: net.Socket, listener: number): void {
    if (this.stopping !== null) {
      socket.destroy();
      return;
    }
    socket.on('error', () => {}); // a client reset before the hand-over is not the parent's problem
    const ready = this.idleSpares().find((c) => c.slot.state === 'ready');
    const booting = ready ?? this.idleSpares().find((c) => c.slot.state === 'booting');
    let child = ready ?? booting;
    if (child === undefined && this.children.size < this.opts.maxChildren) child = this.spawn();
    if (child === undefined) return this.refuse(socket, listener);
    child.assigned = true;
    const target = child;
    target.slot.ready
      .then(() => target.slot.send(this.stoppingSoon ? { tsgi: 'connection', listener, unready: true } : { tsgi: 'connection', listener }, socket))
      .catch(() => this.refuse(socket, listener));
    this.topUp();
  }

  /** No process can take this connection: 503 with Retry-After in its protocol (or just close: TLS, protocol=auto). */
  private refuse(socket: net.Socket, listener: number): void {
    if (socket.destroyed) return;
    const now = Date.now();
    if (now - this.lastOverloadLog > 1000) {
      this.lastOverloadLog = now;
      this.opts.log.log('warn', `forking: ${this.children.size} children alive (maxChildren ${this.opts.maxChildren}); answering 503 to new connections`);
    }
    const overload = this.accepting[listener].overload;
    if (overload === null) {
      socket.destroy();
      return;
    }
    overload(socket);
    setTimeout(() => socket.destroy(), 2000).unref();
  }

  /** Reload: spares (which imported the old code) are replaced; children serving a connection finish it. */
  async reload(): Promise<void> {
    const old = this.idleSpares();
    for (const c of old) c.assigned = true; // no longer handed connections
    const fresh = this.spawn();
    try {
      await fresh.slot.ready;
    } catch (err) {
      for (const c of old) if (c.slot.state === 'ready') c.assigned = false;
      throw err;
    }
    for (const c of old) void c.slot.drain('reload', this.opts.plan.graceMs);
    this.topUp();
  }

  /** The server is stopping (drainDelay): children handed a connection from now on answer readyPath with 503. */
  unready(): void {
    this.stoppingSoon = true;
  }

  /** Graceful stop: stop accepting; spares exit, serving children finish their request and exit. */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.topUpTimer);
      this.stopWatchdog();
      for (const { server } of this.accepting) if (server.listening) server.close();
      await Promise.all([...this.children].map((c) => c.slot.drain('signal', graceMs)));
    })();
    return this.stopping;
  }
}
