/**
 * The object an environ starts as, with room for the request's variables.
 *
 * Why not `{}`: V8 keeps an object's properties in its fast layout only while few of them were added by a
 * computed name (`cgi[name] = value`: every request header, every FastCGI param) beyond the room the object
 * was created with. Past that it turns the object into a hash dictionary, and every later store and read of
 * the environ, the core's and the app's, pays a lookup. A browser's request has 10 to 20 headers, so an
 * environ built from `{ ...11 variables }` plus keyed stores went over: building and reading one with 17
 * headers took 1.2-1.3 us as a dictionary against 0.46 us here (Node 20, a loop building the HTTP front's
 * environ; `npm run bench:path`'s "+browser" row measures the whole request).
 *
 * V8 sizes an object made by `new F()` from the assignments F makes to `this`, plus slack, so a constructor
 * that assigns the variables every environ has reserves the room. Its prototype is Object.prototype: the
 * environ stays a plain object (app-api/SPEC.md env.type), `{...environ}` and JSON see the same keys.
 */
import type { CgiVars } from '../../app-api/types.js';

/** The variables cgiFromHttp and cgiFromGateway always set, as the constructor takes them. */
type Standard = [
  REQUEST_METHOD?: string,
  SCRIPT_NAME?: string,
  PATH_INFO?: string,
  QUERY_STRING?: string,
  SERVER_NAME?: string,
  SERVER_PORT?: string,
  SERVER_PROTOCOL?: string,
  SERVER_SOFTWARE?: string,
  GATEWAY_INTERFACE?: string,
  REMOTE_ADDR?: string,
];

// Plain parameters, not a rest array: no array per request.
function CgiObjectFunction(this: Record<string, string | undefined>, m?: string, s?: string, p?: string, q?: string, n?: string, port?: string, pr?: string, sw?: string, gi?: string, ra?: string): void {
  this.REQUEST_METHOD = m;
  this.SCRIPT_NAME = s;
  this.PATH_INFO = p;
  this.QUERY_STRING = q;
  this.SERVER_NAME = n;
  this.SERVER_PORT = port;
  this.SERVER_PROTOCOL = pr;
  this.SERVER_SOFTWARE = sw;
  this.GATEWAY_INTERFACE = gi;
  this.REMOTE_ADDR = ra;
}
CgiObjectFunction.prototype = Object.prototype;

/**
 * `new CgiObject(method, scriptName, ...)`: CGI variables with room for the rest. Called without arguments
 * (a gateway front parsing its peer's variables), the standard ten are there with the value `undefined`
 * until the parser or cgiFromGateway (which always sets all ten) fills them: such an object must go
 * through cgiFromGateway before it is an environ.
 */
export const CgiObject = CgiObjectFunction as unknown as new (...values: Standard) => CgiVars;

const STANDARD = ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL', 'SERVER_SOFTWARE', 'GATEWAY_INTERFACE', 'REMOTE_ADDR'] as const;

/**
 * After copying variables into a `new CgiObject()`: remove the standard ones the source did not have, so no
 * key is left with the value `undefined`. A front's variables always have all ten (then this removes
 * nothing and the object keeps its fast layout); a hand-made RequestHead may not.
 */
export function dropUnset(cgi: CgiVars): CgiVars {
  const c = cgi as Record<string, string | undefined>;
  // Named reads first (the usual answer is "all there"): a loop over the names is a keyed read each.
  if (
    c.REQUEST_METHOD !== undefined && c.SCRIPT_NAME !== undefined && c.PATH_INFO !== undefined && c.QUERY_STRING !== undefined &&
    c.SERVER_NAME !== undefined && c.SERVER_PORT !== undefined && c.SERVER_PROTOCOL !== undefined && c.SERVER_SOFTWARE !== undefined &&
    c.GATEWAY_INTERFACE !== undefined && c.REMOTE_ADDR !== undefined
  ) {
    return cgi;
  }
  for (const name of STANDARD) if (c[name] === undefined) delete cgi[name];
  return cgi;
}
