/**
 * The supervisor's handle on one worker process: fork it with its plan, know when it is ready, hear its
 * heartbeats and requests, tell it to drain (and kill it if it does not leave in time).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, tsgiError, TsgiError, type TsgiErrorCode } from '../../app-api/errors.js';
import { isTsgiMessage, type RetireReason, type SupervisorMessage, type WorkerMessage } from './messages.js';
import { encodePlan, PLAN_ENV, planListeners, type WorkerPlan } from './plan.js';
import { WORKER_LISTEN_FD } from './listen-socket.js';
import { Slot } from '../workers/slot.js';

/** The worker entry script (compiled next to this file). */
export const WORKER_SCRIPT = fileURLToPath(new URL('./worker-main.js', import.meta.url));

/** Time a draining worker gets beyond the grace period (lifecycle listeners) before SIGKILL. */
export const DRAIN_KILL_MARGIN_MS = 6_000;

/** Where a worker process is in its life (a process is never `busy`: it serves many requests at once). */
export type SlotState = 'booting' | 'ready' | 'draining' | 'exited';

/** How a worker process ended. */
export interface SlotExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One worker process. Its lifecycle (`ready`, `exited`, `loaded`, `expectedExit`: the supervisor replaced
 * it on purpose, so its exit needs no replacement) is the shared one of gateway/workers/slot.ts.
 */
export class ProcessSlot extends Slot<SlotExit> {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Last sign of life (a heartbeat or any message), ms since epoch. */
  lastBeat = Date.now();
  /** Killed by the watchdog. */
  killedStuck = false;
  /** Messages other than ready/beat/failed (retire, draining). */
  onMessage: ((m: WorkerMessage) => void) | undefined;
  private failure: { code: string; message: string } | undefined;

  /**
   * `listenFds` (processPool): the primary's listening sockets, one per listener of the plan in its order;
   * the worker inherits them as fds 4, 5, ... and finds each one's number in its plan listener's `fd`.
   */
  constructor(plan: WorkerPlan, opts: { listenFds?: readonly number[]; script?: string } = {}) {
    super();
    const stdio: Array<'inherit' | 'ipc' | number> = ['inherit', 'inherit', 'inherit', 'ipc'];
    let fullPlan = plan;
    if (opts.listenFds !== undefined) {
      const listeners = planListeners(plan);
      if (listeners.length !== opts.listenFds.length) {
        throw new Error(`${opts.listenFds.length} listening socket(s) for ${listeners.length} listener(s): the pool binds one per listener`);
      }
      opts.listenFds.forEach((fd, i) => (stdio[WORKER_LISTEN_FD + i] = fd));
      fullPlan = { ...plan, listeners: listeners.map((l, i) => ({ ...l, fd: WORKER_LISTEN_FD + i })) };
    }
    this.child = fork(opts.script ?? WORKER_SCRIPT, [], {
      stdio,
      env: { ...process.env, [PLAN_ENV]: encodePlan(fullPlan) },
      serialization: 'json',
    });
    this.pid = this.child.pid ?? -1;
    this.child.once('exit', (code, signal) => this.markExited({ code, signal }, () => this.bootError(code, signal)));
    this.child.on('message', (m: unknown) => {
      if (!isTsgiMessage(m)) return;
      const msg = m as WorkerMessage;
      this.lastBeat = Date.now();
      if (msg.tsgi === 'ready') this.markReady();
      else if (msg.tsgi === 'failed') this.failure = { code: msg.code, message: msg.message };
      else if (msg.tsgi === 'draining' && this.phase !== 'exited') {
        // It drains on its own (SIGTERM sent to it): not asked by the supervisor, so not `expectedExit`.
        this.phase = 'draining';
        this.onMessage?.(msg);
      }
      else if (msg.tsgi !== 'beat') this.onMessage?.(msg);
    });
    this.child.on('error', () => {}); // a failed send to an exiting child; its exit is handled
  }

  /** Where it is in its life (the shared phase; a process is never `busy`). */
  get state(): SlotState {
    return this.phase as SlotState;
  }

  private bootError(code: number | null, signal: NodeJS.Signals | null): TsgiError {
    if (this.failure !== undefined) {
      const known = this.failure.code in ERROR_CODES ? (this.failure.code as TsgiErrorCode) : 'TSGI_ERR_APP_LOAD';
      // The worker built this message (from its code's template) before it died; it is carried over as is.
      return new TsgiError(known, this.failure.message);
    }
    return tsgiError('TSGI_ERR_APP_LOAD', { problem: `worker process ${this.pid} exited (${signal ?? `code ${code}`}) before it was ready`, fix: 'read its error log above, which says why' });
  }

  /** Send a control message (ignored when the channel is already gone). */
  send(message: SupervisorMessage, handle?: net.Socket): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) return reject(new Error(`worker ${this.pid} is gone`));
      this.child.send(message, handle as never, {}, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Ask it to stop accepting, finish in-flight requests within `graceMs`, and exit; SIGKILL if it does not. */
  drain(reason: RetireReason, graceMs: number): Promise<SlotExit> {
    if (this.state !== 'exited' && this.state !== 'draining') {
      this.phase = 'draining';
      this.send({ tsgi: 'drain', reason, graceMs }).catch(() => {});
      const timer = setTimeout(() => this.kill(), graceMs + DRAIN_KILL_MARGIN_MS);
      void this.exited.then(() => clearTimeout(timer));
    }
    return this.exited;
  }

  /** SIGKILL (a stuck process cannot be asked). */
  kill(): void {
    if (this.state !== 'exited') this.child.kill('SIGKILL');
  }
}

/**
 * Kill workers whose heartbeats stopped for longer than `timeoutMs`: their event loop is stuck (a
 * synchronous endless loop), so they can neither answer nor be asked to leave. Returns a stop function.
 */
export function startWatchdog(slots: () => Iterable<ProcessSlot>, timeoutMs: number, onKill: (slot: ProcessSlot, silentMs: number) => void): () => void {
  if (timeoutMs <= 0) return () => {};
  const every = Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4)));
  const timer = setInterval(() => {
    const now = Date.now();
    for (const slot of slots()) {
      if (slot.state !== 'ready' && slot.state !== 'draining') continue;
      const silent = now - slot.lastBeat;
      if (silent > timeoutMs && !slot.killedStuck) {
        slot.killedStuck = true;
        onKill(slot, silent);
        slot.kill();
      }
    }
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}

/** The former name, still imported by the process pool's metrics and modes. */
export { ProcessSlot as WorkerSlot };
