/**
 * Marking handlers as reachable from URLs, as CherryPy's `exposed = True` / `@cherrypy.expose`: the object-tree
 * dispatcher answers only with functions that carry `exposed === true`; every other property (helpers,
 * data, inherited Object methods) is invisible to URLs.
 */
import type { Environ, StartResponse } from '../../types.js';

/** Query and form parameters: one value per name, or a list when the name repeats. */
export type Params = Record<string, string | string[]>;

/** What a handler gets after its positional path segments and the parameters. */
export interface HandlerContext {
  environ: Environ;
  /** Call it to choose status and headers yourself; then return the body. */
  startResponse: StartResponse;
}

/** A handler: `(...pathSegments, params, ctx)`, called with `this` = the object it belongs to. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = ((...args: any[]) => unknown) & { exposed?: boolean };

/** Mark `fn` as exposed and return it: `index: expose(() => 'hello')`. */
export function expose<F extends Handler>(fn: F): F & { exposed: true } {
  (fn as Handler).exposed = true;
  return fn as F & { exposed: true };
}

/** True when `x` is a function marked exposed. */
export function isExposed(x: unknown): x is Handler {
  return typeof x === 'function' && (x as Handler).exposed === true;
}
