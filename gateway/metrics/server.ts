/**
 * A separate listener for the status endpoints, on plain node:http, so Prometheus can scrape a port that
 * the app's clients never reach (and it still answers when the app's front is saturated):
 *
 *     /           HTML status page (`/?refresh=5`)
 *     /?json      the snapshot as JSON
 *     /metrics    Prometheus text
 *
 * TCP clients are checked against the allow-list (default loopback only); on a unix socket the file's
 * permissions decide who may connect, so every client is served.
 */
import { existsSync, statSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { allowList, toAllowList, type AddressAllowList } from '../config/metrics-allow.js';
import { statusResponse, type StatusSource } from './endpoints.js';
import type { MetricsListen } from '../config/metrics-listen.js';

/** A running metrics listener. */
export interface MetricsServer {
  /** `http://127.0.0.1:9100` or `unix:/path`. */
  readonly url: string;
  /** The bound port (0 on a unix socket). */
  readonly port: number;
  close(): Promise<void>;
}

function hasAllowList(s: StatusSource): s is StatusSource & { allow: AddressAllowList } {
  return typeof (s as { allow?: { allows?: unknown } }).allow?.allows === 'function';
}

/**
 * Start the metrics listener for a metered dispatcher (or anything with snapshot() and prometheus()).
 * Rejects with the listen error (EADDRINUSE, EACCES).
 */
export async function startMetricsServer(where: MetricsListen, source: StatusSource): Promise<MetricsServer> {
  if (where.socketFile === undefined && where.port === undefined) throw new Error('startMetricsServer: give a port (0 for any free one) or a socketFile');
  const allow = where.allow === undefined && hasAllowList(source) ? source.allow : toAllowList(where.allow);
  const onUnix = where.socketFile !== undefined;
  const server = http.createServer((req, res) => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    statusResponse(source, onUnix ? allowList('*') : allow, {
      method: req.method ?? 'GET',
      subPath: q < 0 ? raw : raw.slice(0, q),
      query: q < 0 ? '' : raw.slice(q + 1),
      remoteAddr: req.socket.remoteAddress,
      basePath: '',
    }).then(
      (r) => {
        res.writeHead(r.status, r.reason, r.headers.flat());
        res.end(r.body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`Internal Server Error: ${(err as Error).message}\n`);
      },
    );
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  if (onUnix) {
    // A stale socket from a previous run would make listen fail; anything else there is not ours to delete.
    if (existsSync(where.socketFile!) && statSync(where.socketFile!).isSocket()) unlinkSync(where.socketFile!);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (onUnix) server.listen(where.socketFile, done);
    else server.listen(where.port, where.host ?? '127.0.0.1', done);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? (addr as AddressInfo).port : 0;
  const host = where.host ?? '127.0.0.1';
  return {
    url: onUnix ? `unix:${where.socketFile}` : `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => {
          if (onUnix) {
            try {
              unlinkSync(where.socketFile!);
            } catch {
              // already gone
            }
          }
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
