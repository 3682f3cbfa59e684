/** Process concurrency models: processPool (pool.ts) and forking (fork-server.ts), and their workers. */
export { ProcessPool, type ProcessPoolOptions } from './pool.js';
export { ForkingServer, type ForkingOptions } from './fork-server.js';
export { getFront, registerFront, netServerFront, socketFront, type ConnectionHandler, type FrontDef, type OpenFront } from '../fronts/registry.js';
export { PoolMetrics } from './pool-metrics.js';
export type { WorkerPlan, WorkerMode, PlanListener } from './plan.js';
export type { RetireReason } from './messages.js';
