/**
 * Which interface an app module speaks, and the tsgi app made of it: `tsgi serve.mjs` serves a tsgi app, a
 * fetch handler (Hono, itty, a Bun/Deno-style `export default { fetch }`) or a Node listener (express,
 * connect, node:http) as it is. `interface = auto` (the default) decides by shape:
 *
 * 1. an object (or function) with a `fetch` method and no `handle`: a fetch handler (a Hono app is one);
 * 2. a function with express/connect's `handle` and `use` methods (express also has `set`): a Node app;
 * 3. a function of exactly one parameter, `(request) => Response`: a fetch handler;
 * 4. any other function: a tsgi app. A plain node:http `(req, res)` listener looks exactly like a tsgi app
 *    (two parameters), so it needs `interface = node` (`--interface node`) or `fromNode()` in the module.
 *
 * An explicit interface always wins over the shape.
 *
 * Every entry that loads an app module uses this one detection: the CLI (gateway/app-loader.ts) and the
 * CGI entry (adapters/cgi/main.ts), which is why it lives in app-api and not with the CLI.
 */
import { tsgiError } from '../errors.js';
import type { App } from '../types.js';
import { fromFetch, type FetchHandler } from './from-fetch.js';
import { fromNode, type NodeListener } from './from-node.js';

/** The interfaces an app module may speak; `auto`: decided by shape. The `interface` option's values. */
export const APP_INTERFACES = ['auto', 'tsgi', 'fetch', 'node'] as const;
/** One of APP_INTERFACES. */
export type AppInterface = (typeof APP_INTERFACES)[number];

/** The interface an export was served as, and how that was decided. */
export interface AppShape {
  kind: 'tsgi' | 'fetch' | 'node';
  /** For the start line: `fetch handler (detected)`, `express/connect app (detected)`, `node listener (--interface node)`. */
  description: string;
}

const descriptions = new WeakMap<App, AppShape>();

/** What `adaptApp` found for an app it returned (undefined for apps it did not make). */
export function appShape(app: App): AppShape | undefined {
  return descriptions.get(app);
}

function hasMethod(value: unknown, name: string): boolean {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as Record<string, unknown>)[name] === 'function';
}

/** The shape of `value` by the rules above, or null when it is no kind of app. */
export function detectShape(value: unknown): AppShape | null {
  if (hasMethod(value, 'fetch') && !hasMethod(value, 'handle')) return { kind: 'fetch', description: 'fetch handler object (detected)' };
  if (typeof value !== 'function') return null;
  if (hasMethod(value, 'handle') && hasMethod(value, 'use')) {
    return { kind: 'node', description: `${hasMethod(value, 'set') ? 'express' : 'connect'} app (detected)` };
  }
  if (value.length === 1) return { kind: 'fetch', description: 'fetch handler (detected: one parameter)' };
  return { kind: 'tsgi', description: 'tsgi app' };
}

/**
 * The tsgi app for an export: as is, or through fromFetch / fromNode. `what` names the export in errors.
 * Throws TSGI_ERR_APP_LOAD when the export cannot be the interface asked for.
 */
export function adaptApp(value: unknown, iface: AppInterface, what: string): App {
  let shape: AppShape | null;
  if (iface === 'auto') shape = detectShape(value);
  else {
    const fits = iface === 'fetch' ? hasMethod(value, 'fetch') || typeof value === 'function' : typeof value === 'function';
    shape = fits ? { kind: iface, description: `${iface === 'fetch' ? 'fetch handler' : iface === 'node' ? 'node listener' : 'tsgi app'} (--interface ${iface})` } : null;
  }
  if (shape === null) {
    const expected = iface === 'fetch' ? 'a fetch handler (a function, or an object with a fetch method)' : iface === 'auto' ? 'an app: a function (environ, startResponse), a fetch handler or a Node listener' : 'a function';
    throw tsgiError('TSGI_ERR_APP_LOAD', { problem: `${what} is ${value === null ? 'null' : `a ${typeof value}`}, not ${expected}`, fix: `export ${expected}${iface === 'auto' ? '' : ', or give the interface (--interface, TSGI_INTERFACE) the export speaks'}` });
  }
  const app = shape.kind === 'fetch' ? fromFetch(value as FetchHandler) : shape.kind === 'node' ? fromNode(value as NodeListener) : (value as App);
  descriptions.set(app, shape);
  return app;
}
