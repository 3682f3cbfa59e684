/** Where the metrics listener binds, and the `metricsListen` option's text form of it. */
import { tsgiError } from '../../app-api/errors.js';
import type { AddressAllowList } from './metrics-allow.js';

/** Where the metrics listener binds. */
export interface MetricsListen {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. Required unless socketFile is given. */
  port?: number;
  /** A unix socket path instead of TCP (an existing socket file there is replaced). */
  socketFile?: string;
  /** Who may read it over TCP. Default: the source's own allow-list, else loopback only. */
  allow?: readonly string[] | string | AddressAllowList;
}

/** Parse `metricsListen`: `HOST:PORT`, `[V6]:PORT`, `PORT`, or `unix:/path`. */
export function parseMetricsListen(text: string): MetricsListen {
  const t = text.trim();
  if (t.startsWith('unix:') && t.length > 5) return { socketFile: t.slice(5) };
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(t) ?? /^()()(\d+)$/.exec(t);
  if (m === null || Number(m[3]) > 65535) throw tsgiError('TSGI_ERR_CONFIG', { where: 'metricsListen', problem: `'${text}' is not HOST:PORT, PORT or unix:/path`, fix: 'write e.g. 127.0.0.1:9100' });
  const host = m[1] || m[2] || undefined;
  return { host, port: Number(m[3]) };
}
