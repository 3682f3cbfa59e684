/**
 * The `[server]` options of the metrics, as declared in gateway/config/options.ts with these parsers (kept
 * free of prom-client, so loading the config stays light; serve-hook.ts applies them):
 *
 *     statusPath    = /server-status          the page, ?json and /metrics on the app's own port (off when unset)
 *     statusAllow   = 127.0.0.0/8, ::1        who may read them (REMOTE_ADDR); `*` = everyone
 *     metricsListen = 127.0.0.1:9100          a separate listener (HOST:PORT, PORT or unix:/path)
 */
import { BadValue } from './values.js';
import { allowList, LOOPBACK_ONLY } from './metrics-allow.js';
import { parseMetricsListen } from './metrics-listen.js';

/** The default of statusAllow. */
export const DEFAULT_STATUS_ALLOW = LOOPBACK_ONLY.join(', ');

/** statusPath: a URL path below the root, such as `/server-status`. */
export function parseStatusPath(raw: string): string {
  const t = raw.trim().replace(/\/+$/, '');
  if (!t.startsWith('/') || t.includes('//') || /[?#\s\0%]/.test(t)) {
    throw new BadValue(`must be a URL path below the root like /server-status (leading slash, no ?, #, % or spaces), got ${JSON.stringify(raw)}`);
  }
  return t;
}

/** statusAllow: comma-separated addresses and subnets, or `*`. Kept as text, checked here. */
export function parseStatusAllow(raw: string): string {
  try {
    return allowList(raw).entries.join(', ');
  } catch (err) {
    const why = (err as Error).message.replace(/^statusAllow: /, '').replace(/;.*$/, '');
    throw new BadValue(`must be a comma-separated list of IP addresses and subnets (127.0.0.1, ::1, 10.0.0.0/8) or *, but ${why}`);
  }
}

/** metricsListen: `HOST:PORT`, `[V6]:PORT`, `PORT` or `unix:/path`. Kept as text, checked here. */
export function parseMetricsListenOption(raw: string): string {
  try {
    parseMetricsListen(raw);
  } catch {
    throw new BadValue(`must be HOST:PORT, PORT or unix:/path (e.g. 127.0.0.1:9100), got ${JSON.stringify(raw)}`);
  }
  return raw.trim();
}
