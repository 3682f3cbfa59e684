/**
 * Every listener of a config (`[server]` and each `[server:NAME]` section) started on one dispatcher, as one
 * Front: the same app and the same workers answer on each socket, while the address, protocol, TLS,
 * timeouts, mount (scriptName) and status page are each listener's own. REMOTE_ADDR, SERVER_PORT and the
 * other per-connection variables come from the listener the request arrived on, as each front builds its
 * request head.
 *
 * Metrics with several listeners: one metered dispatcher counts the requests of all of them, so a status
 * page shows the whole process; each listener with a statusPath answers it on its own path for its own
 * statusAllow (metrics/status-route.ts). metricsListen (process-wide) reads the same numbers.
 */
import { listenersOf, type Config, type Listener } from './config/resolve.js';
import type { Dispatcher } from './core/dispatch.js';
import type { ErrorLog } from './core/log.js';
import { parseMetricsListen } from './config/metrics-listen.js';
import { withMetrics } from './metrics/metered.js';
import { startFrontWithMetrics } from './metrics/serve-hook.js';
import { startMetricsServer, type MetricsServer } from './metrics/server.js';
import { statusRoute } from './metrics/status-route.js';
import type { Front } from './fronts/types.js';
import { withTrustedProxies } from './fronts/proxy.js';
import { Readiness } from './health/readiness.js';
import { withReadyPath } from './health/ready-route.js';

/** One started listener, for the start line. */
export interface ListenerUrl {
  /** `[server]` or `[server:NAME]`. */
  readonly section: string;
  /** Where it listens (`http://127.0.0.1:8080`, `unix:/run/admin.sock`, `scgi://...`). */
  readonly url: string;
}

/** All listeners as one front: `url` is the first's (`[server]`), close() closes every one. */
export interface ListenersFront extends Front {
  readonly listeners: readonly ListenerUrl[];
}

/**
 * Start every listener of `config` for `dispatcher`; `startOne` starts one listener's front on a dispatcher.
 * When one fails to start (EADDRINUSE...), the ones already listening are closed and the error is thrown.
 * `readiness` answers each listener's readyPath (gateway/health).
 */
export async function startListeners(config: Config, log: ErrorLog, dispatcher: Dispatcher, startOne: (l: Listener, d: Dispatcher) => Promise<Front>, readiness = new Readiness()): Promise<ListenersFront> {
  const listeners = listenersOf(config);
  // The readiness check outside the metrics (not counted as the app's traffic), inside the proxy policy.
  const outer = (d: Dispatcher, l: Listener): Dispatcher => withTrustedProxies(withReadyPath(d, l.server, readiness, log), l.server, log);
  if (listeners.length === 1) {
    // One listener: exactly what serve() did before there were several (its metered dispatcher answers statusPath).
    const [l] = listeners;
    // Reverse-proxy mode outermost: the status page's statusAllow then checks the client, not the proxy.
    const front = await startFrontWithMetrics(l.server, log, dispatcher, (d) => startOne(l, outer(d, l)));
    return { url: front.url, listeners: [{ section: l.section, url: front.url }], close: (graceMs) => front.close(graceMs) };
  }

  const main = config.server;
  const wantMetrics = main.metricsListen !== undefined || listeners.some((l) => l.server.statusPath !== undefined);
  // Counts only: each listener decides whether it answers the status page (statusRoute below).
  const metered = wantMetrics ? withMetrics(dispatcher, { allow: main.statusAllow, log }) : undefined;
  const started: { section: string; front: Front }[] = [];
  let metricsServer: MetricsServer | undefined;
  const closeAll = async (graceMs: number): Promise<void> => {
    await Promise.all([...started.map((s) => s.front.close(graceMs)), metricsServer?.close()]);
  };
  try {
    for (const l of listeners) {
      let d: Dispatcher = metered ?? dispatcher;
      if (metered !== undefined && l.server.statusPath !== undefined) {
        d = statusRoute(metered, metered, { statusPath: l.server.statusPath, allow: l.server.statusAllow, log });
      }
      started.push({ section: l.section, front: await startOne(l, outer(d, l)) });
    }
    if (metered !== undefined && main.metricsListen !== undefined) {
      metricsServer = await startMetricsServer(parseMetricsListen(main.metricsListen), metered);
      log.log('info', `metrics listening on ${metricsServer.url}`);
    }
  } catch (err) {
    await closeAll(0);
    throw err;
  }
  return {
    url: started[0].front.url,
    listeners: started.map((s) => ({ section: s.section, url: s.front.url })),
    close: closeAll,
  };
}
