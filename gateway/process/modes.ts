/**
 * The process concurrency models as serve.ts runs them: `processPool = N` and `forking = 1`. Both turn the
 * config into a worker plan (with every listener: `[server]` and each `[server:NAME]`); the workers import
 * the app themselves (so a reload serves new code) and open one front per listener.
 *
 * Metrics (statusPath on any listener, metricsListen): the workers meter their own requests; the supervisor
 * follows every worker it forks (PoolMetrics), adds up their numbers when asked, and serves metricsListen
 * itself.
 */
import { installLogReopen } from '../tools/apply.js';
import { listenersOf } from '../config/resolve.js';
import type { ModeRunner, ServeContext } from '../mode-types.js';
import { ForkingServer } from './fork-server.js';
import type { WorkerPlan } from './plan.js';
import type { PoolMetrics } from './pool-metrics.js';
import { ProcessPool } from './pool.js';
import type { WorkerSlot } from './worker-slot.js';

/** The supervisor's metrics, when the config asks for them. */
interface SupervisorMetrics {
  onSpawn?: (slot: WorkerSlot) => void;
  /** Start metricsListen (after the workers serve). */
  listen(): Promise<void>;
  close(): Promise<void>;
}

async function supervisorMetrics(ctx: ServeContext, mode: 'processPool' | 'forking'): Promise<SupervisorMetrics> {
  const s = ctx.config.server;
  const statusPage = listenersOf(ctx.config).some((l) => l.server.statusPath !== undefined);
  if (!statusPage && s.metricsListen === undefined) return { listen: async () => {}, close: async () => {} };
  // Imported only when the metrics are on.
  const [{ PoolMetrics: Metrics }, { startMetricsServer }, { parseMetricsListen }] = await Promise.all([
    import('./pool-metrics.js'),
    import('../metrics/server.js'),
    import('../config/metrics-listen.js'),
  ]);
  const metrics: PoolMetrics = new Metrics(mode);
  let server: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  return {
    onSpawn: (slot) => metrics.attach(slot),
    async listen() {
      if (s.metricsListen === undefined) return;
      server = await startMetricsServer({ ...parseMetricsListen(s.metricsListen), allow: s.statusAllow }, metrics);
      ctx.log.log('info', `metrics listening on ${server.url}`);
    },
    close: async () => server?.close(),
  };
}

function planOf(ctx: ServeContext): Omit<WorkerPlan, 'mode'> {
  const s = ctx.config.server;
  // The listeners travel once, in `listeners` (each with its settings), not also inside the config.
  const { listeners: _inConfig, ...config } = ctx.config;
  const listeners = listenersOf(ctx.config).map((l) => ({ section: l.section, server: l.server }));
  return {
    // JSON round trip: the plan travels in an environment variable; this fails here, not in a worker.
    ...(JSON.parse(JSON.stringify({ config, listeners })) as Pick<WorkerPlan, 'config' | 'listeners'>),
    app: ctx.appSpec,
    cwd: ctx.cwd,
    graceMs: Math.round(s.gracefulTimeout * 1000),
    timeoutMs: Math.round(s.workerTimeout * 1000),
    maxRequests: s.maxRequests,
    maxRequestsJitter: s.maxRequestsJitter,
  };
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // the worker just exited: its replacement opens the files afresh
  }
}

/** processPool = N: N processes accept on the sockets (one per listener) bound before the fork. */
export const runProcessPool: ModeRunner = async (ctx) => {
  const metrics = await supervisorMetrics(ctx, 'processPool');
  const pool = await ProcessPool.start({ size: ctx.config.server.processPool, plan: planOf(ctx), log: ctx.log, onSpawn: metrics.onSpawn });
  try {
    await metrics.listen();
  } catch (err) {
    await pool.stop(0);
    throw err;
  }
  // logrotate signals the primary; the log files are open in the workers.
  const hasLogFiles = ctx.config.tools?.log.accessFile !== undefined || ctx.config.server.errorLog !== '-';
  const stopForwarding = hasLogFiles ? installLogReopen(() => pool.pids.forEach((pid) => signalQuietly(pid, 'SIGUSR1'))) : () => {};
  return {
    url: pool.url,
    listeners: pool.listeners,
    close: async (graceMs) => {
      stopForwarding();
      await pool.stop(graceMs);
      await metrics.close();
    },
    reload: () => pool.reload(),
    unready: () => pool.unready(),
  };
};

/** forking: a new process per connection. */
export const runForking: ModeRunner = async (ctx) => {
  const s = ctx.config.server;
  const metrics = await supervisorMetrics(ctx, 'forking');
  const server = await ForkingServer.start({
    plan: { ...planOf(ctx), maxRequests: 0 },
    maxChildren: s.maxChildren,
    spareChildren: Math.min(s.spareChildren, s.maxChildren),
    log: ctx.log,
    onSpawn: metrics.onSpawn,
  });
  try {
    await metrics.listen();
  } catch (err) {
    await server.stop(0);
    throw err;
  }
  return {
    url: server.url,
    listeners: server.listeners,
    close: async (graceMs) => {
      await server.stop(graceMs);
      await metrics.close();
    },
    reload: () => server.reload(),
    unready: () => server.unready(),
  };
};
