/**
 * `methodDispatch(obj)`: CherryPy's MethodDispatcher as an app. The request method picks the handler:
 * `obj.GET`, `obj.POST`, ... (upper-case names; they need no expose(), the names say they are HTTP
 * methods). HEAD uses GET when there is no HEAD (the gateway drops the body); OPTIONS without a handler
 * answers 204 with Allow; any other method is 405 with Allow listing what the object has. Handlers get the
 * PATH_INFO segments, the params and ctx, as objectTree's do.
 */
import type { App } from '../../types.js';
import { callHandler } from './call-handler.js';
import type { Handler } from './expose.js';
import { segmentsOf } from './object-tree.js';
import { textResponse } from './result.js';

/** The HTTP methods `obj` has handlers for, HEAD added when GET is there, sorted. */
export function allowedMethods(obj: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = obj; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (/^[A-Z]+$/.test(name) && typeof (obj as Record<string, unknown>)[name] === 'function') names.add(name);
    }
  }
  if (names.has('GET')) names.add('HEAD');
  names.add('OPTIONS');
  return [...names].sort();
}

/** An app answering each method with `obj[METHOD]`. */
export function methodDispatch(obj: object): App {
  const allow = allowedMethods(obj).join(', ');
  return function methodDispatchApp(environ, startResponse) {
    const method = environ.REQUEST_METHOD;
    const table = obj as Record<string, unknown>;
    let fn = /^[A-Z]+$/.test(method) ? table[method] : undefined;
    if (fn === undefined && method === 'HEAD') fn = table.GET;
    if (typeof fn !== 'function') {
      if (method === 'OPTIONS') {
        startResponse('204 No Content', [['Allow', allow]]);
        return [];
      }
      environ['tsgi.errors'].write(`methodDispatch: 405 for ${method} ${JSON.stringify(environ.SCRIPT_NAME + environ.PATH_INFO)}: no ${method} handler (has ${allow})\n`);
      return textResponse(startResponse, '405 Method Not Allowed', 'Method Not Allowed\n', [['Allow', allow]]);
    }
    return callHandler(fn as Handler, obj, segmentsOf(environ.PATH_INFO), environ, startResponse);
  };
}
