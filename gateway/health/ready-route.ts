/**
 * `readyPath`: a readiness endpoint on the app's own port for an upstream health check (nginx Plus
 * `health_check`, HAProxy `option httpchk`, a Kubernetes readinessProbe): `200 ready` while the server takes
 * traffic, `503 draining` from the moment it is told to stop. With `drainDelay`
 * the server keeps accepting and serving for that long after SIGTERM while this endpoint says 503, so the
 * balancer takes the host out of rotation before the host stops accepting; see gateway/serve.ts.
 *
 * Any method is answered (HAProxy's default check is `OPTIONS /`), there is no allow-list (the answer tells
 * nothing but up/down), and the app never sees these requests. The gateway core frames the response (HEAD,
 * HTTP/1.0, keep-alive), as for the status page.
 */
import type { App, CgiVars } from '../../app-api/types.js';
import { InlineDispatcher, type Dispatcher, type RequestHead } from '../core/dispatch.js';
import type { ErrorLog } from '../core/log.js';
import type { ResponseSink } from '../core/sink.js';
import type { Readiness } from './readiness.js';

/** True when SCRIPT_NAME + PATH_INFO is exactly `path`. */
function isPath(path: string, cgi: CgiVars): boolean {
  const script = cgi.SCRIPT_NAME ?? '';
  const info = cgi.PATH_INFO ?? '';
  if (script === '') return info === path;
  return script.length + info.length === path.length && path.startsWith(script) && path.endsWith(info);
}

function readinessApp(readiness: Readiness): App {
  return (_environ, startResponse) => {
    const common: Array<[string, string]> = [['Content-Type', 'text/plain; charset=utf-8'], ['Cache-Control', 'no-store']];
    if (readiness.ready) {
      startResponse('200 OK', [...common, ['Content-Length', '6']]);
      return [Buffer.from('ready\n')];
    }
    startResponse('503 Service Unavailable', [...common, ['Content-Length', '9'], ['Retry-After', '1']]);
    return [Buffer.from('draining\n')];
  };
}

/**
 * Answer `readyPath` from `readiness`, pass every other request to `next`. Returns `next` itself when the
 * listener has no readyPath.
 */
export function withReadyPath(next: Dispatcher, settings: { readyPath?: string }, readiness: Readiness, log: ErrorLog): Dispatcher {
  const path = settings.readyPath;
  if (path === undefined) return next;
  const ready = new InlineDispatcher(readinessApp(readiness), { log });
  return {
    dispatch(head: RequestHead, sink: ResponseSink) {
      return isPath(path, head.cgi) ? ready.dispatch(head, sink) : next.dispatch(head, sink);
    },
    // `next` belongs to whoever built it (the mode runner closes its dispatcher).
    close: () => ready.close(),
  };
}
