/**
 * `tools.timing`: a `Server-Timing: app;dur=MS` header (the time until the app started its response, which
 * is what a header can carry) and, for requests whose whole response took `slow_ms` or more, one line in the
 * error log (tsgi.errors) naming the request, its status and its duration.
 */
import { performance } from 'node:perf_hooks';
import type { App } from '../types.js';
import { observe } from './observe.js';
import type { ToolDef } from './tool-def.js';

/** Options of timing(). */
export interface TimingOptions {
  /** Log requests that take this many milliseconds or more; 0 = never. */
  slow_ms: number;
}

/** Wrap `app` with Server-Timing and the slow-request log. */
export function timing(app: App, options: Partial<TimingOptions> = {}): App {
  const slowMs = options.slow_ms ?? 1000;
  return (environ, startResponse) => {
    const t0 = performance.now();
    return observe(app, environ, startResponse, {
      onStart: (_status, headers) => [...headers, ['Server-Timing', `app;dur=${(performance.now() - t0).toFixed(1)}`]],
      onEnd(info) {
        const ms = performance.now() - t0;
        if (slowMs > 0 && ms >= slowMs) {
          const uri = `${environ.SCRIPT_NAME}${environ.PATH_INFO}${environ.QUERY_STRING !== '' ? `?${environ.QUERY_STRING}` : ''}`;
          environ['tsgi.errors'].write(`[${new Date().toISOString()}] [warn] [tsgi] slow request: ${environ.REQUEST_METHOD} ${uri} ${info.status.split(' ')[0] || '-'} took ${Math.round(ms)} ms (slow_ms ${slowMs})\n`);
        }
      },
    });
  };
}

/** `tools.timing.*`. */
export const timingTool: ToolDef<TimingOptions> = {
  name: 'timing',
  doc: 'A Server-Timing header on every response and an error-log line for requests slower than slow_ms.',
  options: {
    slow_ms: { type: 'number', default: 1000, doc: 'Milliseconds from which a request is logged as slow; 0 = never.' },
  },
  create: (app, options) => timing(app, options),
};
