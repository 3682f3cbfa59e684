/** Call a found handler the way both dispatchers do: `(...segments, params, ctx)` with `this` = its object. */
import { isTsgiError } from '../../errors.js';
import type { Body, Environ, StartResponse } from '../../types.js';
import type { Handler } from './expose.js';
import { requestParams } from './params.js';
import { textResponse, toResponse } from './result.js';

/** Run `handler` for the request and turn its result into a body. */
export async function callHandler(handler: Handler, self: unknown, segments: string[], environ: Environ, startResponse: StartResponse): Promise<Body> {
  let params;
  try {
    params = await requestParams(environ);
  } catch (err) {
    if (isTsgiError(err) && err.status === 413) return textResponse(startResponse, '413 Content Too Large', err.message + '\n');
    throw err;
  }
  let started = false;
  const sr: StartResponse = (status, headers, excInfo) => {
    started = true;
    return startResponse(status, headers, excInfo);
  };
  const value = await handler.call(self, ...segments, params, { environ, startResponse: sr });
  return toResponse(value, started, startResponse);
}
