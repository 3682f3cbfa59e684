/**
 * Boolean `[server]` options that wrap the app in middleware, by option name. A plain table that imports
 * app-api only, so a worker thread or process that applies a feature loads the middleware and nothing of
 * the server runtime (serve.ts, fastify, the adapters).
 */
import type { Middleware } from '../app-api/types.js';
import { xmlrpc } from '../app-api/middleware/xmlrpc.js';

/** Features by option name. `undefined` = parsed, not built yet. */
export const FEATURES: { xmlRpc: Middleware | undefined } = {
  xmlRpc: (app) => xmlrpc(app),
};
