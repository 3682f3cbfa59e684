/**
 * processPool = N: N worker processes accept on the listening sockets that the primary bound before forking
 * them (see listen-socket.ts): one per listener (`[server]` and each `[server:NAME]`), and every worker
 * accepts on all of them, as gunicorn's workers do with several `bind` addresses. The primary never
 * touches a request; it keeps N workers alive:
 * - a worker that dies is replaced (with a growing delay while new workers keep dying at boot);
 * - a worker whose heartbeats stop for workerTimeout is killed and replaced (its clients' connections
 *   close; a request stuck in async code is answered 504 by the worker itself, which then asks to go);
 * - a worker that asks to retire (maxRequests, a timed-out request) is replaced: the new one first, then
 *   the old one drains, so capacity never drops;
 * - reload (SIGHUP) does the same for every worker, one at a time: the new code is imported by the new
 *   processes, and if it does not load, the old workers keep serving and reload() rejects;
 * - stop (SIGTERM) drains every worker: they stop accepting, finish in-flight requests within the grace
 *   period, publish their lifecycle channels and exit 0; then the primary closes every socket.
 */
import type { ListenerUrl } from '../listeners.js';
import type { ErrorLog } from '../core/log.js';
import { getFront } from '../fronts/registry.js';
import { bindListenSocket, type ListenSocket } from './listen-socket.js';
import type { RetireReason } from './messages.js';
import { planListeners, type WorkerPlan } from './plan.js';
import { startWatchdog, ProcessSlot } from './worker-slot.js';
import { BootBackoff } from '../workers/slot.js';

/** Options of a process pool. */
export interface ProcessPoolOptions {
  /** Number of worker processes (>= 1). */
  size: number;
  /** What every worker runs (the mode and each listener's fd are filled in by the pool). */
  plan: Omit<WorkerPlan, 'mode'>;
  log: ErrorLog;
  /** The worker entry script; default worker-main.js. */
  script?: string;
  /** Called with every worker process as it is forked (the metrics follow them). */
  onSpawn?: (slot: ProcessSlot) => void;
}

/** A running process pool. */
export class ProcessPool {
  private readonly slots = new Set<ProcessSlot>();
  /** unready() was called: the server stops after drainDelay. */
  private stoppingSoon = false;
  private started = false;
  private stopping: Promise<void> | null = null;
  /** Workers that failed at boot in a row: delays refilling (100 ms x 2^n, at most 10 s). */
  private readonly backoff = new BootBackoff(200, 10_000);
  private fillTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  private stopWatchdog: () => void = () => {};
  /** Where clients connect (`[server]`, the first listener). */
  readonly url: string;
  /** Every listener, `[server]` first, with where it listens. */
  readonly listeners: readonly ListenerUrl[];

  private constructor(private readonly opts: ProcessPoolOptions, private readonly sockets: readonly ListenSocket[]) {
    this.listeners = planListeners(opts.plan).map((l, i) => ({
      section: l.section,
      url: getFront(l.server.protocol).describe(l.server, { port: sockets[i].port, path: sockets[i].path }),
    }));
    this.url = this.listeners[0].url;
  }

  /**
   * Bind every listener's socket, fork the workers, resolve once all serve. Rejects with the first worker's
   * boot error, or with the bind error of a listener (the sockets already bound are closed).
   */
  static async start(opts: ProcessPoolOptions): Promise<ProcessPool> {
    const listeners = planListeners(opts.plan);
    for (const l of listeners) getFront(l.server.protocol); // TSGI_ERR_NOT_YET before anything is bound or forked
    const sockets: ListenSocket[] = [];
    try {
      for (const { server: s } of listeners) {
        // An inherited socket (socketFd, socket activation) is already bound: the workers get it as it is.
        if (s.socketFd !== undefined) sockets.push({ fd: s.socketFd, port: 0, close() {} });
        else sockets.push(await bindListenSocket(s.socketFile !== undefined ? { path: s.socketFile } : { host: s.socketHost, port: s.socketPort }));
      }
    } catch (err) {
      for (const socket of sockets) socket.close();
      throw err;
    }
    const pool = new ProcessPool(opts, sockets);
    try {
      const first = Array.from({ length: Math.max(1, opts.size) }, () => pool.spawn());
      await Promise.all(first.map((w) => w.ready));
    } catch (err) {
      await pool.stop(0);
      throw err;
    }
    pool.started = true;
    pool.stopWatchdog = startWatchdog(
      () => pool.slots,
      opts.plan.timeoutMs,
      (slot, silent) => opts.log.log('error', `worker ${slot.pid} gave no sign of life for ${silent} ms (workerTimeout ${opts.plan.timeoutMs} ms): killing it; a new worker replaces it`),
    );
    return pool;
  }

  /** The bound TCP port of `[server]` (0 for a unix socket). */
  get port(): number {
    return this.sockets[0].port;
  }

  /** Pids of the workers that serve now. */
  get pids(): number[] {
    return [...this.slots].filter((s) => s.state === 'ready').map((s) => s.pid);
  }

  private spawn(): ProcessSlot {
    const slot = new ProcessSlot({ ...this.opts.plan, mode: 'pool' }, { listenFds: this.sockets.map((s) => s.fd), script: this.opts.script });
    this.slots.add(slot);
    this.opts.onSpawn?.(slot);
    slot.onMessage = (m) => {
      if (m.tsgi === 'retire') void this.replace(slot, m.reason);
      // It drains on its own (someone sent it SIGTERM): start its replacement while it finishes.
      else if (m.tsgi === 'draining' && !slot.expectedExit && this.stopping === null) this.scheduleFill();
    };
    slot.ready.then(
      () => {
        this.backoff.succeeded();
        // A replacement that came up during drainDelay is leaving with the others.
        if (this.stoppingSoon) slot.send({ tsgi: 'unready' }).catch(() => {});
      },
      () => {},
    );
    void slot.exited.then(({ code, signal }) => {
      this.slots.delete(slot);
      if (!this.started || this.stopping !== null || slot.exitCause === 'expected') return;
      if (slot.exitCause === 'bootFailure') this.backoff.failed();
      const how = signal ?? `code ${code}`;
      this.opts.log.log('warn', `worker ${slot.pid} ${slot.loaded ? 'exited' : 'failed to start'} (${how}); starting a replacement`);
      this.scheduleFill();
    });
    return slot;
  }

  /** Bring the pool back to N workers; later (backoff) while new workers keep failing at boot. */
  private scheduleFill(): void {
    if (this.fillTimer !== undefined) return;
    const delay = this.backoff.delayMs();
    this.fillTimer = setTimeout(() => {
      this.fillTimer = undefined;
      if (this.stopping !== null) return;
      const serving = [...this.slots].filter((s) => !s.expectedExit && s.state !== 'draining').length;
      for (let i = serving; i < this.opts.size; i++) this.spawn();
    }, delay);
  }

  /**
   * Replace one worker: start the new one, wait until it accepts, then drain the old one. Resolves to the
   * error when the new one could not start (the old one then keeps serving).
   */
  private async replace(old: ProcessSlot, reason: RetireReason): Promise<Error | undefined> {
    if (old.expectedExit || old.state !== 'ready' || this.stopping !== null) return undefined;
    old.expectedExit = true;
    const fresh = this.spawn();
    try {
      await fresh.ready;
    } catch (err) {
      old.expectedExit = false;
      this.opts.log.log('error', `a new worker could not start, so worker ${old.pid} keeps serving (${reason})`, err);
      return err as Error;
    }
    if (this.stopping === null) void old.drain(reason, this.opts.plan.graceMs);
    return undefined;
  }

  /**
   * Reload the app code: replace the workers one at a time (new first, then the old one drains). A SIGHUP
   * during a reload runs one more round afterwards, so the newest code always ends up served.
   */
  reload(): Promise<void> {
    if (this.reloading !== null) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        const current = [...this.slots].filter((s) => s.state === 'ready' && !s.expectedExit);
        for (const slot of current) {
          if (this.stopping !== null) return;
          const err = await this.replace(slot, 'reload');
          if (err !== undefined) throw err;
        }
      } while (this.reloadAgain && this.stopping === null);
    })().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  /** The server is stopping: every worker answers readyPath with 503 from now on (they keep serving). */
  unready(): void {
    this.stoppingSoon = true;
    for (const s of this.slots) s.send({ tsgi: 'unready' }).catch(() => {});
  }

  /** Graceful stop: every worker drains within `graceMs` and exits; then every socket is closed. */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.fillTimer);
      this.stopWatchdog();
      await Promise.all([...this.slots].map((s) => s.drain('signal', graceMs)));
      for (const socket of this.sockets) socket.close();
    })();
    return this.stopping;
  }
}
