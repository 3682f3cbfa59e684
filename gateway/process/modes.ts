/**
 * The process concurrency models as serve.ts runs them: `processPool = N` and `forking = 1`. Both turn the
 * config into a worker plan; the workers import the app themselves (so a reload serves new code).
 */
import type { ModeRunner, ServeContext } from '../serve.js';
import { ForkingServer } from './fork-server.js';
import type { WorkerPlan } from './plan.js';
import { ProcessPool } from './pool.js';

function planOf(ctx: ServeContext): Omit<WorkerPlan, 'mode' | 'listenFd'> {
  const s = ctx.config.server;
  return {
    // JSON round trip: the plan travels in an environment variable; this fails here, not in a worker.
    config: JSON.parse(JSON.stringify(ctx.config)) as WorkerPlan['config'],
    app: ctx.appSpec,
    cwd: ctx.cwd,
    graceMs: Math.round(s.gracefulTimeout * 1000),
    timeoutMs: Math.round(s.workerTimeout * 1000),
    maxRequests: s.maxRequests,
    maxRequestsJitter: s.maxRequestsJitter,
  };
}

/** processPool = N: N processes accept on one socket bound before the fork. */
export const runProcessPool: ModeRunner = async (ctx) => {
  const pool = await ProcessPool.start({ size: ctx.config.server.processPool, plan: planOf(ctx), log: ctx.log });
  return { url: pool.url, close: (graceMs) => pool.stop(graceMs), reload: () => pool.reload() };
};

/** forking: a new process per connection. */
export const runForking: ModeRunner = async (ctx) => {
  const s = ctx.config.server;
  const server = await ForkingServer.start({
    plan: { ...planOf(ctx), maxRequests: 0 },
    maxChildren: s.maxChildren,
    spareChildren: Math.min(s.spareChildren, s.maxChildren),
    log: ctx.log,
  });
  return { url: server.url, close: (graceMs) => server.stop(graceMs), reload: () => server.reload() };
};
