/**
 * The three status endpoints, independent of how they are reached (a path on the app's own server through
 * the metered dispatcher, or the separate metrics listener):
 *
 *     <base>            HTML page (`?refresh=N` reloads it every N seconds)
 *     <base>?json       the MetricsSnapshot as JSON
 *     <base>/metrics    Prometheus text exposition
 *
 * GET and HEAD only; clients not on the allow-list get 403 before anything is computed.
 */
import type { App } from '../../app-api/types.js';
import type { AddressAllowList } from '../config/metrics-allow.js';
import { renderStatusHtml } from './html.js';
import type { MetricsSnapshot } from './snapshot.js';

/** What the endpoints read from. MeteredDispatcher implements it. */
export interface StatusSource {
  /** Synchronous for one process; a promise where the numbers are collected first (a process pool's primary). */
  snapshot(): MetricsSnapshot | Promise<MetricsSnapshot>;
  prometheus(): Promise<{ text: string; contentType: string }>;
}

/** A request to the endpoints. */
export interface StatusRequest {
  method: string;
  /** The path below the base: `''` or `/` (the page), `/metrics`; anything else is 404. */
  subPath: string;
  /** The raw query string, without `?`. */
  query: string;
  /** The client's address (REMOTE_ADDR); empty or undefined when the transport has none (only `*` allows that). */
  remoteAddr: string | undefined;
  /** The base path, for the page's own links. */
  basePath: string;
}

/** A complete response. */
export interface StatusResponse {
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  /** Empty for HEAD; Content-Length is still the GET body's length. */
  body: Buffer;
}

const COMMON: Array<[string, string]> = [
  ['Cache-Control', 'no-store'],
  ['X-Content-Type-Options', 'nosniff'],
];
/** The page has no script; forbid any, so a missed escape still cannot run one. */
const HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function reply(method: string, status: number, reason: string, type: string, text: string, extra: Array<[string, string]> = []): StatusResponse {
  const body = Buffer.from(text, 'utf8');
  return {
    status,
    reason,
    headers: [['Content-Type', type], ['Content-Length', String(body.length)], ...COMMON, ...extra],
    body: method === 'HEAD' ? Buffer.alloc(0) : body,
  };
}

function queryKeys(query: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    keys.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? '' : part.slice(eq + 1));
  }
  return keys;
}

/** Answer one request to the status endpoints. */
export async function statusResponse(source: StatusSource, allow: AddressAllowList, req: StatusRequest): Promise<StatusResponse> {
  const text = 'text/plain; charset=utf-8';
  if (!allow.allows(req.remoteAddr)) {
    return reply(req.method, 403, 'Forbidden', text, 'Forbidden: this address may not see the server status (add it to statusAllow)\n');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return reply(req.method, 405, 'Method Not Allowed', text, 'Method Not Allowed: the server status answers GET and HEAD\n', [['Allow', 'GET, HEAD']]);
  }
  if (req.subPath === '/metrics') {
    const prom = await source.prometheus();
    return reply(req.method, 200, 'OK', prom.contentType, prom.text);
  }
  if (req.subPath !== '' && req.subPath !== '/') return reply(req.method, 404, 'Not Found', text, 'Not Found\n');
  const q = queryKeys(req.query);
  const snapshot = await source.snapshot();
  if (q.has('json')) return reply(req.method, 200, 'OK', 'application/json; charset=utf-8', JSON.stringify(snapshot, null, 2) + '\n');
  const refresh = Number(q.get('refresh'));
  const html = renderStatusHtml(snapshot, {
    selfPath: req.basePath,
    refreshSeconds: Number.isInteger(refresh) && refresh > 0 ? Math.min(refresh, 3600) : undefined,
  });
  return reply(req.method, 200, 'OK', 'text/html; charset=utf-8', html, [['Content-Security-Policy', HTML_CSP]]);
}

/**
 * The status endpoints under `base` as a tsgi app, so the gateway core frames them like any response
 * (HEAD, HTTP/1.0, keep-alive). One definition for the single-listener wrapper and per-listener routes.
 */
export function statusApp(source: StatusSource, allow: AddressAllowList, base: string): App {
  return async (environ, startResponse) => {
    const path = String(environ.SCRIPT_NAME ?? '') + String(environ.PATH_INFO ?? '');
    const res = await statusResponse(source, allow, {
      method: String(environ.REQUEST_METHOD),
      subPath: path.slice(base.length),
      query: String(environ.QUERY_STRING ?? ''),
      remoteAddr: String(environ.REMOTE_ADDR ?? ''),
      basePath: base,
    });
    startResponse(`${res.status} ${res.reason}`, res.headers);
    return res.body.length > 0 ? [res.body] : [];
  };
}
