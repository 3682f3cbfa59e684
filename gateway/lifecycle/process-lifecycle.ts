/**
 * The lifecycle of one process that runs the app, in whatever concurrency model: import the module, let
 * it subscribe (`setup(engine)`), publish `start`; and on the way down publish `reload` (when retired by a
 * reload), `graceful` while the front drains, then `stop` and `exit`. Single mode and every worker process
 * go through this same sequence, so an app sees the same channels everywhere.
 */
import { tsgiError } from '../../app-api/errors.js';
import { resolveAppModule, type AppSpec } from '../app-loader.js';
import type { ErrorLog } from '../core/log.js';
import { runAppSetup } from './app-setup.js';
import { Engine } from './engine.js';

/** The app module's namespace (for `setup`), CommonJS `module.exports` included. */
export async function importAppModule(spec: AppSpec, cwd: string): Promise<Record<string, unknown>> {
  // The same URL app-loader imported: Node returns the instance it already evaluated.
  const ns = (await import(resolveAppModule(spec, cwd))) as Record<string, unknown>;
  const cjs = ns.default;
  if (ns.setup === undefined && cjs !== null && typeof cjs === 'object' && (cjs as Record<string, unknown>).setup !== undefined) {
    return cjs as Record<string, unknown>;
  }
  return ns;
}

/** Options of ProcessLifecycle.begin. */
export interface LifecycleOptions {
  log: ErrorLog;
  appConfig: Readonly<Record<string, string>>;
  multiprocess: boolean;
}

/** The engine of this process, started. */
export class ProcessLifecycle {
  private ending: Promise<void> | null = null;
  private constructor(readonly engine: Engine) {}

  /** Call the module's `setup(engine)` and publish `start`. A failing listener fails the start. */
  static async begin(module: Record<string, unknown>, opts: LifecycleOptions): Promise<ProcessLifecycle> {
    const engine = new Engine(opts.log);
    await runAppSetup(module, engine, { appConfig: opts.appConfig, multiprocess: opts.multiprocess });
    const failures = await engine.publish('start');
    if (failures.length > 0) {
      const cause = failures[0].error;
      throw tsgiError('TSGI_ERR_APP_LOAD', { problem: `a 'start' lifecycle listener failed: ${(cause as Error)?.message ?? String(cause)}`, fix: "fix the module's start listener" }, { cause });
    }
    return new ProcessLifecycle(engine);
  }

  /**
   * Go down: [`reload`], then start `drain` (stop accepting, finish in-flight requests) and publish
   * `graceful` while it runs, then `stop` and `exit`. Runs once; later calls return the same promise.
   */
  end(reason: string, drain: () => Promise<void>): Promise<void> {
    this.ending ??= (async () => {
      if (reason === 'reload') await this.engine.publish('reload', reason);
      const drained = drain();
      await this.engine.publish('graceful', reason);
      await drained;
      await this.engine.publish('stop', reason);
      await this.engine.publish('exit', reason);
    })();
    return this.ending;
  }
}
