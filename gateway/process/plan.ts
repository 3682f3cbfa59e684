/**
 * A worker plan: everything a worker process needs to serve, as plain JSON. The supervisor puts it in the
 * child's environment (TSGI_WORKER_PLAN), so a worker needs no config file and no command line of its own
 * and a reload (a fresh process) re-imports the app code but serves exactly the same settings.
 */
import { tsgiError } from '../../app-api/errors.js';
import type { AppSpec } from '../app-loader.js';
import type { ServerConfig } from '../config/options.js';
import type { Config } from '../config/resolve.js';

/** The environment variable that carries the plan to a worker. */
export const PLAN_ENV = 'TSGI_WORKER_PLAN';

/** How a worker process gets its connections. */
export type WorkerMode =
  /** processPool: accept on the listening sockets inherited from the primary (each listener's `fd`). */
  | 'pool'
  /** forking: the parent sends one accepted connection; serve it, then exit. */
  | 'fork';

/** One listener a worker serves (`[server]` or a `[server:NAME]` section). */
export interface PlanListener {
  /** `[server]` or `[server:NAME]`, for messages. */
  section: string;
  /** Its settings (address, protocol, TLS, timeouts, scriptName, statusPath...), as resolve.ts built them. */
  server: ServerConfig;
  /** pool mode: the fd of its listening socket, inherited from the primary (filled in by WorkerSlot). */
  fd?: number;
}

/** What a worker runs. */
export interface WorkerPlan {
  mode: WorkerMode;
  /** The validated config, as the supervisor resolved it (process options, `[app]`). */
  config: Config;
  /** The app to import, `MODULE[:EXPORT]` parsed. */
  app: AppSpec;
  /** Where MODULE is resolved from. */
  cwd: string;
  /** Grace period for in-flight requests when draining, ms. */
  graceMs: number;
  /** Per-request deadline, and the heartbeat watchdog of the supervisor, ms; 0 = none. */
  timeoutMs: number;
  /** Recycle the process after this many requests (plus a random 0..maxRequestsJitter); 0 = never. */
  maxRequests: number;
  maxRequestsJitter: number;
  /**
   * Every listener, `[server]` first, in the order of the config; a worker opens one front per listener (by
   * its `server.protocol`). Absent in a plan built by hand: the listeners of `config` (listenersOf).
   */
  listeners?: PlanListener[];
}

/** Serialize a plan for the child's environment. */
export function encodePlan(plan: WorkerPlan): string {
  return JSON.stringify(plan);
}

/** Read the plan a supervisor gave this process. */
export function planFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerPlan {
  const raw = env[PLAN_ENV];
  if (raw === undefined || raw === '') {
    throw tsgiError('TSGI_ERR_CONFIG', { where: PLAN_ENV, problem: 'is not set: worker-main.js is started by a processPool or forking supervisor, not by hand', fix: 'run the tsgi command instead' });
  }
  try {
    return JSON.parse(raw) as WorkerPlan;
  } catch (err) {
    throw tsgiError('TSGI_ERR_CONFIG', { where: PLAN_ENV, problem: 'is not valid JSON', fix: 'let the tsgi supervisor set it: run the tsgi command' }, { cause: err });
  }
}

/**
 * The listeners of a plan, `[server]` first: `plan.listeners`, or for a plan built by hand those of its
 * config (`[server]` alone when the config has no list). Kept here, not from config/resolve.ts, so a worker
 * does not import the config code.
 */
export function planListeners(plan: Pick<WorkerPlan, 'listeners' | 'config'>): PlanListener[] {
  if (plan.listeners !== undefined) return plan.listeners;
  const listeners = plan.config.listeners ?? [{ section: '[server]', server: plan.config.server }];
  return listeners.map((l) => ({ section: l.section, server: l.server }));
}
