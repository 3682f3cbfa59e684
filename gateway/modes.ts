/**
 * Concurrency models by option name: single runs here; the thread models live in gateway/threads, the process
 * models in gateway/process. To plug in a model: a ModeRunner in MODES, or registerMode() from outside.
 */
import type { ModeName } from './config/options.js';
import { InlineDispatcher } from './core/dispatch.js';
import { importAppModule, ProcessLifecycle } from './lifecycle/process-lifecycle.js';
import type { ModeRunner } from './mode-types.js';
import { runThreading, runThreadPool } from './threads/run-mode.js';
import { runForking, runProcessPool } from './process/modes.js';
import { WorkerDispatcher } from './process/worker-dispatcher.js';

/** single: the app runs inline on the event loop of this process. */
const runSingle: ModeRunner = async (ctx) => {
  const app = await ctx.loadApp();
  // The app's `setup(engine)` subscribes to start/graceful/stop/exit (gateway/lifecycle).
  const lifecycle = await ProcessLifecycle.begin(await importAppModule(ctx.appSpec, ctx.cwd), { log: ctx.log, appConfig: ctx.config.app, multiprocess: false });
  const inline = new InlineDispatcher(app, { log: ctx.log, appConfig: ctx.config.app });
  // workerTimeout: the event loop cannot be preempted, but a request waiting on I/O past it still gets its
  // 504 instead of hanging the client (the same deadline wrapper the process workers use).
  const timeoutMs = Math.round(ctx.config.server.workerTimeout * 1000);
  // maxInFlight: past it, 503 at once (the same counter the process workers keep).
  const maxInFlight = ctx.config.server.maxInFlight;
  const queueWaitMs = Math.round(ctx.config.server.threadQueueWait * 1000);
  const dispatcher = timeoutMs > 0 || maxInFlight > 0 || queueWaitMs > 0 ? new WorkerDispatcher(inline, { log: ctx.log, timeoutMs, maxInFlight, queueWaitMs }) : inline;
  const front = await ctx.startFront(dispatcher);
  return {
    url: front.url,
    close(graceMs) {
      return lifecycle.end('signal', async () => {
        await front.close(graceMs);
        await dispatcher.close();
      });
    },
  };
};

/** Concurrency models by name. `undefined` = parsed, not built yet. */
export const MODES: Record<ModeName, ModeRunner | undefined> = {
  single: runSingle,
  threading: runThreading,
  forking: runForking,
  processPool: runProcessPool,
  threadPool: runThreadPool,
};

/** Plug in a concurrency model. */
export function registerMode(name: ModeName, runner: ModeRunner): void {
  MODES[name] = runner;
}
