/**
 * A worker process: what runs in each processPool process and in each forked child. It imports the app,
 * lets the app subscribe to its lifecycle engine (the module's `setup(engine)` export), publishes `start`,
 * opens one front per listener (`[server]` and each `[server:NAME]`, by protocol name, all on one
 * dispatcher) and then either accepts on the listening sockets inherited from the primary or serves the one
 * connection its parent hands over, with the front of the listener that accepted it.
 *
 * It leaves by draining, never by dying mid-request: on SIGTERM/SIGINT, on the supervisor's `drain` (stop,
 * reload, recycling), when its parent goes away, or (forking) when its connection is closed.
 */
import { randomInt } from 'node:crypto';
import type net from 'node:net';
import { isTsgiError } from '../../app-api/errors.js';
import type { App } from '../../app-api/types.js';
import { loadApp } from '../app-loader.js';
import { InlineDispatcher } from '../core/dispatch.js';
import { importAppModule, ProcessLifecycle } from '../lifecycle/process-lifecycle.js';
import { openErrorLog } from '../open-error-log.js';
import { applyFeatures, enabledFeatures } from '../features.js';
import { getFront, type OpenFront } from '../fronts/registry.js';
import { applyTools, installLogReopen } from '../tools/apply.js';
import { withTrustedProxies } from '../fronts/proxy.js';
import { Readiness } from '../health/readiness.js';
import { withReadyPath } from '../health/ready-route.js';
import { isTsgiMessage, type RetireReason, type SupervisorMessage, type WorkerMessage } from './messages.js';
import { planListeners, type WorkerPlan } from './plan.js';
import { WorkerDispatcher } from './worker-dispatcher.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** Extra time after the grace period for lifecycle listeners before the process exits regardless. */
const LISTENER_MARGIN_MS = 5_000;

function send(message: WorkerMessage): void {
  // With a callback, a send to a supervisor that just died (EPIPE) is reported there instead of as an
  // uncaught 'error' event; the 'disconnect' handler below drains and exits.
  if (process.connected) process.send!(message, undefined, {}, () => {});
}

/** Import the app as the single-mode server does (app-loader + enabled features), and its module for `setup`. */
async function importApp(plan: WorkerPlan): Promise<{ app: App; module: Record<string, unknown> }> {
  let app = applyFeatures(await loadApp(plan.app, plan.cwd), enabledFeatures(plan.config.server));
  app = applyTools(app, plan.config.tools, { mode: plan.mode === 'fork' ? 'forking' : 'processPool', warn: () => {} });
  // The supervisor forwards SIGUSR1 to its workers: each reopens its own log files.
  installLogReopen();
  return { app, module: await importAppModule(plan.app, plan.cwd) };
}

/** Run this process as a worker of `plan`. Resolves once it is serving; the process exits from drain(). */
export async function runWorker(plan: WorkerPlan): Promise<void> {
  const { log, close: closeLog } = openErrorLog(plan.config.server);
  let lifecycle: ProcessLifecycle | null = null;
  let fronts: OpenFront[] | null = null;
  let dispatcher: WorkerDispatcher | null = null;
  let metrics: WorkerMetrics | null = null;
  let draining: Promise<void> | null = null;
  let asked: { reason: RetireReason; graceMs: number } | null = null;
  let retireAsked = false;
  // readyPath: 503 once the server (not just this worker) is stopping; see gateway/health.
  const readiness = new Readiness();

  const askRetire = (reason: RetireReason): void => {
    if (retireAsked || draining !== null) return;
    retireAsked = true;
    // The supervisor starts a replacement first and then sends `drain`: no gap in capacity.
    send({ tsgi: 'retire', reason });
  };

  const drain = (reason: RetireReason, graceMs: number): Promise<void> => {
    if (fronts === null || dispatcher === null || lifecycle === null) {
      asked ??= { reason, graceMs }; // still booting: drain right after
      return Promise.resolve();
    }
    draining ??= (async (fs: OpenFront[], d: WorkerDispatcher, l: ProcessLifecycle) => {
      const started = Date.now();
      send({ tsgi: 'draining', reason });
      setTimeout(() => {
        log.log('warn', `worker ${process.pid}: lifecycle listeners still running ${LISTENER_MARGIN_MS} ms after the grace period; exiting`);
        process.exit(0);
      }, graceMs + LISTENER_MARGIN_MS).unref();
      await l.end(reason, async () => {
        await Promise.all(fs.map((f) => f.drain(graceMs)));
        // A request whose client went away may still be running in the app: give it the rest of the grace.
        await d.whenIdle(Math.max(0, graceMs - (Date.now() - started)));
        await d.close();
      });
      // The supervisor keeps a departed worker's counts (a pool's counters never go down).
      await metrics?.sendFinal();
      closeLog();
      process.exit(0);
    })(fronts, dispatcher, lifecycle!);
    return draining;
  };

  process.on('message', (m: unknown, handle?: net.Socket) => {
    if (!isTsgiMessage(m)) return;
    const msg = m as SupervisorMessage;
    if (msg.tsgi === 'drain') {
      if (msg.reason === 'signal') readiness.markDraining();
      void drain(msg.reason, msg.graceMs);
    } else if (msg.tsgi === 'unready') readiness.markDraining();
    else if (msg.tsgi === 'connection' && handle !== undefined) {
      if (msg.unready === true) readiness.markDraining();
      const front = fronts?.[msg.listener ?? 0];
      if (front === undefined || draining !== null) {
        handle.destroy();
        return;
      }
      front.handleConnection(handle);
      // Forking: this process exists for this one connection.
      handle.once('close', () => void drain('connectionClosed', plan.graceMs));
    }
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      readiness.markDraining();
      void drain('signal', plan.graceMs);
    });
  }
  // SIGHUP is the primary's (it reloads by replacing workers); a HUP sent to the whole process group must
  // not take the default action and kill the workers.
  process.on('SIGHUP', () => {});
  // The supervisor is gone (killed with SIGKILL?): do not linger as an orphan holding the port.
  process.on('disconnect', () => void drain('parentGone', plan.graceMs));

  try {
    const { app, module } = await importApp(plan);
    const limit = plan.maxRequests > 0 ? plan.maxRequests + randomInt(0, plan.maxRequestsJitter + 1) : 0;
    const inline = new InlineDispatcher(app, { log, appConfig: plan.config.app, multiprocess: true });
    const d = new WorkerDispatcher(inline, {
      log,
      timeoutMs: plan.timeoutMs,
      maxInFlight: plan.config.server.maxInFlight,
      queueWaitMs: Math.round(plan.config.server.threadQueueWait * 1000),
      onTimeout: () => askRetire('timeout'),
      onServed: (n) => {
        if (limit > 0 && n >= limit) askRetire('maxRequests');
      },
    });
    const l = await ProcessLifecycle.begin(module, { log, appConfig: plan.config.app, multiprocess: true });
    const listeners = planListeners(plan);
    // Imported only when asked for: the metrics code is not on a forked child's start-up path otherwise.
    if (plan.config.server.metricsListen !== undefined || listeners.some((l) => l.server.statusPath !== undefined)) {
      metrics = (await import('./worker-metrics.js')).meterWorker(d, listeners.map((l) => l.server), log);
    }
    if (plan.mode === 'pool') {
      for (const l of listeners) if (l.fd === undefined) throw new Error(`${l.section}: no listening socket was passed to this worker`);
    }
    // Every front is opened before any accepts (also in a forked child, which serves one of them): a
    // listener whose settings cannot work (an unreadable TLS key) fails the start as in a single process,
    // and a worker never serves on one listener while it may still fail on another.
    const opened: OpenFront[] = [];
    for (const [i, l] of listeners.entries()) opened.push(await (await getFront(l.server.protocol).load()).open(withTrustedProxies(withReadyPath(metrics?.dispatchers[i] ?? d, l.server, readiness, log), l.server, log), l.server, log));
    // Told to drain while booting (stop, reload): accept nothing; the drain runs once booted, below.
    // (A cast: TypeScript cannot see that drain() may have set `asked` meanwhile.)
    if (plan.mode === 'pool' && (asked as unknown) === null) {
      for (const [i, l] of listeners.entries()) await opened[i].listenOnFd(l.fd!, l.server.socketQueueSize);
    }
    fronts = opened;
    dispatcher = d;
    lifecycle = l;
  } catch (err) {
    const code = isTsgiError(err) ? err.code : ((err as NodeJS.ErrnoException)?.code ?? 'error');
    const message = (err as Error)?.message ?? String(err);
    log.log('error', `worker ${process.pid} could not start`, err);
    // Wait until the message is out: exiting right after send() can drop it, and the supervisor would
    // then only know that the worker died.
    if (process.connected) {
      await new Promise<void>((resolve) => {
        process.send!({ tsgi: 'failed', code: String(code), message } satisfies WorkerMessage, undefined, {}, () => resolve());
        setTimeout(resolve, 1000).unref();
      });
    }
    closeLog();
    process.exit(1);
  }

  if (plan.timeoutMs > 0) {
    // The supervisor kills a worker whose beats stop: its event loop is stuck (a synchronous endless loop).
    const every = Math.max(20, Math.min(1000, Math.floor(plan.timeoutMs / 5)));
    setInterval(() => send({ tsgi: 'beat' }), every).unref();
  }
  send({ tsgi: 'ready' });
  // Set by drain() while booting (TypeScript cannot see assignments made in callbacks).
  const pending = asked as { reason: RetireReason; graceMs: number } | null;
  if (pending !== null) void drain(pending.reason, pending.graceMs);
}
