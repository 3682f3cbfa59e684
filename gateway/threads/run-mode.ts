/**
 * Runs the thread concurrency models for serve.ts: `threadPool = N` and `threading = 1`. The main
 * thread runs the front (the sockets); every thread imports the app itself (so reload serves new code) and
 * runs its own lifecycle (`setup(engine)`, start/stop listeners), as each has its own module instance.
 *
 * Settings used from `[server]`: threadPool (N), maxChildren (threading: most threads at once),
 * workerTimeout (504 + the thread replaced), maxRequests (+ maxRequestsJitter; threadPool only, a threading
 * thread serves one request), threadQueueSize (requests waiting for a thread) and threadQueueWait (seconds:
 * admission control on queue wait; 0 = off).
 */
import { enabledFeatures } from '../features.js';
import type { ModeRunner, ServeContext } from '../mode-types.js';
import { ThreadPoolDispatcher, type ThreadDispatcherOptions } from './thread-pool.js';

function optionsOf(ctx: ServeContext, mode: 'pool' | 'perRequest'): ThreadDispatcherOptions {
  const s = ctx.config.server;
  const features = enabledFeatures(s);
  return {
    app: ctx.appSpec,
    cwd: ctx.cwd,
    log: ctx.log,
    appConfig: ctx.config.app,
    mode,
    size: mode === 'pool' ? s.threadPool : s.maxChildren,
    requestTimeoutMs: Math.round(s.workerTimeout * 1000),
    maxRequests: s.maxRequests,
    maxRequestsJitter: s.maxRequestsJitter,
    maxQueue: s.threadQueueSize,
    maxQueueWaitMs: Math.round(s.threadQueueWait * 1000),
    maxBatch: s.threadBatch,
    features,
    tools: ctx.config.tools,
  };
}

function runner(mode: 'pool' | 'perRequest'): ModeRunner {
  return async (ctx) => {
    const dispatcher = new ThreadPoolDispatcher(optionsOf(ctx, mode));
    await dispatcher.start(); // TSGI_ERR_APP_LOAD here, before anything listens
    let front;
    try {
      front = await ctx.startFront(dispatcher);
    } catch (err) {
      await dispatcher.close(0);
      throw err;
    }
    const handle = {
      url: front.url,
      dispatcher,
      async close(graceMs: number) {
        await front.close(graceMs);
        await dispatcher.close(graceMs);
      },
      reload: () => dispatcher.reload(),
    };
    return handle;
  };
}

/** threadPool = N: N threads started at boot; requests queue for an idle one. */
export const runThreadPool: ModeRunner = runner('pool');

/** threading = 1: a new thread per request, ended after it. */
export const runThreading: ModeRunner = runner('perRequest');
