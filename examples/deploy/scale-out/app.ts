/**
 * The app of the three-host deployment (examples/deploy/scale-out): which host answered, and a session
 * counter written with an idempotent PUT, so nginx and HAProxy may retry a write on another host.
 *
 *     GET /whoami            {"host", "remoteAddr"}: the host label (TSGI_HOST, else the hostname)
 *     PUT /session?seq=N     the client's N-th write: counts it once, however often it is retried
 *     GET /session           {"host", "last", "count"}
 *
 * No Content-Length on purpose: the sessions tool saves the session before the body ends, and a chunked
 * response ends after that, so a client never holds an answer for a write that is not in redis yet.
 */
import { hostname } from 'node:os';
import type { App } from '../../../app-api/types.js';

const HOST = process.env.TSGI_HOST ?? hostname();

function json(startResponse: Parameters<App>[1], status: string, value: unknown): Buffer[] {
  startResponse(status, [['Content-Type', 'application/json'], ['Cache-Control', 'no-store']]);
  return [Buffer.from(JSON.stringify(value) + '\n')];
}

export const app: App = (environ, startResponse) => {
  const path = String(environ.PATH_INFO);
  const method = String(environ.REQUEST_METHOD);
  if (path === '/whoami') return json(startResponse, '200 OK', { host: HOST, remoteAddr: environ.REMOTE_ADDR });
  if (path !== '/session') return json(startResponse, '404 Not Found', { error: 'not found' });
  const session = environ['tsgi.session'] as { last?: number; count?: number } | undefined;
  if (session === undefined) return json(startResponse, '500 Internal Server Error', { error: 'tools.sessions.on = 1 is needed' });
  if (method === 'PUT') {
    const seq = Number(new URLSearchParams(String(environ.QUERY_STRING ?? '')).get('seq'));
    if (!Number.isSafeInteger(seq) || seq < 1) return json(startResponse, '400 Bad Request', { error: 'seq=N, N >= 1' });
    // Idempotent: a retried write (same seq) changes nothing.
    if (seq > (session.last ?? 0)) {
      session.last = seq;
      session.count = (session.count ?? 0) + 1;
    }
  } else if (method !== 'GET' && method !== 'HEAD') {
    return json(startResponse, '405 Method Not Allowed', { error: 'GET or PUT' });
  }
  return json(startResponse, '200 OK', { host: HOST, last: session.last ?? 0, count: session.count ?? 0 });
};

export default app;
