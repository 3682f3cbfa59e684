/**
 * The status endpoints on one listener of several (`statusPath` in a `[server:NAME]` section): the listeners
 * share one MeteredDispatcher, so the page shows the traffic of the whole process, while each listener
 * decides for itself whether it answers the page, at which path and for whom. Requests outside the path go
 * to the shared metered dispatcher, which counts them.
 *
 * A single listener does not need this: withMetrics({ statusPath }) answers its own path (serve-hook.ts).
 */
import type { CgiVars } from '../../app-api/types.js';
import { InlineDispatcher, type Dispatcher, type RequestHead } from '../core/dispatch.js';
import type { ErrorLog } from '../core/log.js';
import type { ResponseSink } from '../core/sink.js';
import { toAllowList } from '../config/metrics-allow.js';
import { statusApp, type StatusSource } from './endpoints.js';

/** Where one listener answers the status endpoints. */
export interface StatusRouteOptions {
  /** As parsed by the statusPath option: a path below the root, no trailing slash. */
  statusPath: string;
  /** statusAllow of the listener. */
  allow: string;
  log: ErrorLog;
}

/** True when SCRIPT_NAME + PATH_INFO is `base` or below it. */
function under(base: string, cgi: CgiVars): boolean {
  const script = cgi.SCRIPT_NAME ?? '';
  const path = script === '' ? (cgi.PATH_INFO ?? '') : script + (cgi.PATH_INFO ?? ''); // no new string in the common case
  return path.startsWith(base) && (path.length === base.length || path.charCodeAt(base.length) === 47); // '/'
}

/**
 * A dispatcher for one listener: `GET <statusPath>` (HTML), `?json` and `/metrics` answered from `source`'s
 * numbers (for clients on `allow`), everything else passed to `next` (the shared metered dispatcher).
 */
export function statusRoute(source: StatusSource, next: Dispatcher, opts: StatusRouteOptions): Dispatcher {
  const base = opts.statusPath;
  const allow = toAllowList(opts.allow);
  const app = statusApp(source, allow, base);
  // The gateway core frames the status response like any other (HEAD, HTTP/1.0, keep-alive).
  const status = new InlineDispatcher(app, { log: opts.log });
  return {
    dispatch(head: RequestHead, sink: ResponseSink) {
      return under(base, head.cgi) ? status.dispatch(head, sink) : next.dispatch(head, sink);
    },
    // The listeners share `next`; whoever owns it closes it (the mode runner), not one listener's route.
    close: () => status.close(),
  };
}
