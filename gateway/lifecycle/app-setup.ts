/**
 * How an app reaches the lifecycle bus: its module exports `setup(engine, context)` next to the app.
 *
 *     export const app: App = ...;
 *     export async function setup(engine: Engine): Promise<void> {
 *       engine.subscribe('start', async () => { pool = await openPool(); });
 *       engine.subscribe('stop', () => pool.end());
 *     }
 *
 * The gateway calls `setup` once per process that runs the app, after importing the module and before
 * publishing `start`. An export (rather than a global engine to import) keeps the app testable: a test
 * hands it its own Engine, and nothing is shared between two servers in one process.
 */
import type { Engine } from './engine.js';

/** What `setup` is told besides the engine. */
export interface SetupContext {
  /** The `[app]` section of the config (the same object as environ['tsgi.app_config']). */
  appConfig: Readonly<Record<string, string>>;
  /** True when other processes serve the same app (processPool, forking): per-process resources only. */
  multiprocess: boolean;
}

/** The optional `setup` export of an app module. */
export type AppSetup = (engine: Engine, context: SetupContext) => void | Promise<void>;

/**
 * Call the module's `setup` export when it has one. A `setup` that is not a function is an error naming the
 * fix, not silently ignored: a typo there would otherwise leave the app without its database pool.
 */
export async function runAppSetup(module: Record<string, unknown>, engine: Engine, context: SetupContext): Promise<boolean> {
  const setup = module.setup;
  if (setup === undefined) return false;
  if (typeof setup !== 'function') {
    throw new TypeError(`the app module exports 'setup' but it is a ${typeof setup}; export a function setup(engine) or remove the export`);
  }
  await (setup as AppSetup)(engine, context);
  return true;
}
