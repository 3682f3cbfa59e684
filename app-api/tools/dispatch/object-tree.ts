/**
 * `objectTree(root)`: CherryPy's default dispatcher. `/a/b` walks `root.a.b`; the deepest object reached that
 * can answer does: an exposed function (the rest of the path as positional arguments), an object's exposed
 * `index` when the whole path was consumed, or its exposed `default` with the rest of the path. Walking back
 * toward the root stops at the first one found, as CherryPy does. Handlers are called as
 * `handler(...segments, params, { environ, startResponse })` with `this` = their object; params are the
 * query and urlencoded form parameters (see ./params.ts, ./result.ts for what a handler may return).
 *
 * Only functions marked exposed answer (`expose(fn)` or `fn.exposed = true`); names inherited from
 * Object.prototype (`constructor`, `toString`, `__proto__`) are never looked up. Anything else is a 404
 * whose reason (which name was missing, or found but not exposed) goes to tsgi.errors, so a developer sees
 * why without the client learning the object layout.
 */
import type { App, Environ } from '../../types.js';
import { callHandler } from './call-handler.js';
import { isExposed, type Handler } from './expose.js';
import { textResponse } from './result.js';

function child(node: unknown, name: string): unknown {
  if (node === null || (typeof node !== 'object' && typeof node !== 'function')) return undefined;
  if (name in Object.prototype || name in Function.prototype) return undefined;
  return (node as Record<string, unknown>)[name];
}

interface Found {
  handler: Handler;
  self: unknown;
  args: string[];
}

/** Find the handler for `segments`, or say why there is none. */
export function findHandler(root: object, segments: string[]): Found | { missing: string } {
  const trail: unknown[] = [root];
  let stop = '';
  for (const seg of segments) {
    const next = child(trail[trail.length - 1], seg);
    if (next === undefined || next === null) {
      stop = `${['root', ...segments.slice(0, trail.length - 1)].join('.')} has no ${JSON.stringify(seg)}`;
      break;
    }
    trail.push(next);
  }
  const notExposed: string[] = [];
  for (let i = trail.length - 1; i >= 0; i--) {
    const node = trail[i];
    const rest = segments.slice(i);
    const name = ['root', ...segments.slice(0, i)].join('.');
    if (typeof node === 'function') {
      if (isExposed(node)) return { handler: node, self: trail[i - 1], args: rest };
      notExposed.push(`${name} is not exposed`);
      continue;
    }
    if (rest.length === 0) {
      const index = child(node, 'index');
      if (isExposed(index)) return { handler: index, self: node, args: [] };
      if (typeof index === 'function') notExposed.push(`${name}.index is not exposed`);
    }
    const dflt = child(node, 'default');
    if (isExposed(dflt)) return { handler: dflt, self: node, args: rest };
    if (typeof dflt === 'function') notExposed.push(`${name}.default is not exposed`);
  }
  const reasons = [stop, ...notExposed].filter((r) => r !== '');
  return { missing: reasons.length > 0 ? reasons.join('; ') : 'no exposed index or default handler' };
}

/** The path's segments: empty ones (`//`, a trailing `/`) dropped. */
export function segmentsOf(pathInfo: string): string[] {
  return pathInfo.split('/').filter((s) => s !== '');
}

/** An app that dispatches requests into the object tree under `root`. */
export function objectTree(root: object): App {
  return function objectTreeApp(environ: Environ, startResponse) {
    const found = findHandler(root, segmentsOf(environ.PATH_INFO));
    if ('missing' in found) {
      environ['tsgi.errors'].write(`objectTree: 404 for ${JSON.stringify(environ.SCRIPT_NAME + environ.PATH_INFO)}: ${found.missing}\n`);
      return textResponse(startResponse, '404 Not Found', 'Not Found\n');
    }
    return callHandler(found.handler, found.self, found.args, environ, startResponse);
  };
}
