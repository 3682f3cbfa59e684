/**
 * Boolean `[server]` options that wrap the app in middleware (`xmlRpc = 1`). One table, applied the same
 * way wherever an app is loaded: the single process, each pool thread and each worker process. It imports
 * app-api only, so a worker thread or process loads it without the server runtime.
 */
import type { App, Middleware } from '../app-api/types.js';
import { xmlrpc } from '../app-api/xmlrpc/xmlrpc.js';

/** Middleware by option name. `undefined` = the option parses but the feature is not built. */
export const FEATURES: { xmlRpc: Middleware | undefined } = {
  xmlRpc: (app) => xmlrpc(app),
};

/** A feature option's name. */
export type FeatureName = keyof typeof FEATURES;

/** The features switched on in `server` (e.g. `{ xmlRpc: true }`), by name. */
export function enabledFeatures(server: Readonly<Partial<Record<FeatureName, unknown>>>): FeatureName[] {
  return (Object.keys(FEATURES) as FeatureName[]).filter((f) => server[f] === true && FEATURES[f] !== undefined);
}

/** Wrap `app` in the middleware of each feature named. */
export function applyFeatures(app: App, names: readonly FeatureName[]): App {
  for (const name of names) {
    const wrap = FEATURES[name];
    if (wrap !== undefined) app = wrap(app);
  }
  return app;
}
