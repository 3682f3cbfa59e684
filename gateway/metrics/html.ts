/**
 * The HTML status page, after Apache's mod_status: uptime, totals, and a table with one row per worker (one
 * per request for the event loop, which serves many at once) showing what it serves now and for how long.
 * Request lines come from clients, so every value is HTML-escaped; the page also goes out with a CSP that
 * allows no script at all, in case an escape is ever missed.
 */
import type { MetricsSnapshot, WorkerSnapshot } from './snapshot.js';

/** Escape text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Request targets longer than this are cut on the page (the JSON has them whole). */
const MAX_TARGET = 300;

/** Options of renderStatusHtml. */
export interface StatusHtmlOptions {
  /** Reload the page every N seconds (a meta refresh; no script). */
  refreshSeconds?: number;
  /** Path of the page itself, for the links to `?json` and `/metrics`. */
  selfPath?: string;
}

function duration(seconds: number): string {
  let s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return (d > 0 ? `${d} d ` : '') + (d > 0 || h > 0 ? `${h} h ` : '') + (d > 0 || h > 0 || m > 0 ? `${m} min ` : '') + `${s} s`;
}

function mean(h: { count: number; sum: number }, scale: number): string {
  return h.count === 0 ? '-' : ((h.sum / h.count) * scale).toFixed(1);
}

function cut(text: string): string {
  return text.length > MAX_TARGET ? text.slice(0, MAX_TARGET) + '…' : text;
}

function workerRows(w: WorkerSnapshot): string {
  const served = w.served === undefined ? '' : String(w.served);
  const cells = (state: string, method: string, target: string, age: string): string =>
    `<tr class="${escapeHtml(state)}"><td>${escapeHtml(w.id)}</td><td>${escapeHtml(state)}</td><td class="n">${served}</td>` +
    `<td>${escapeHtml(method)}</td><td class="req">${escapeHtml(cut(target))}</td><td class="n">${age}</td></tr>`;
  if (w.current.length === 0) return cells(w.state, '', '', '');
  return w.current.map((r) => cells(w.state, r.method, r.target, String(r.ageMs))).join('\n');
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.2em 0 .4em}
table{border-collapse:collapse}td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:left}
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.req{font-family:ui-monospace,monospace;max-width:40em;overflow-wrap:anywhere}
tr.busy td{background:#fff4d6}tr.starting td,tr.retiring td,tr.stopping td{color:#777}
dl{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;margin:0}dt{color:#555}dd{margin:0}
p.links{margin-top:1.5em;color:#555}`;

/** The whole status page for one snapshot. */
export function renderStatusHtml(s: MetricsSnapshot, opts: StatusHtmlOptions = {}): string {
  const r = s.requests;
  const c = r.byStatusClass;
  const refresh = opts.refreshSeconds !== undefined && opts.refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${Math.floor(opts.refreshSeconds)}">` : '';
  const self = escapeHtml(opts.selfPath ?? '');
  const summary: Array<[string, string]> = [
    ['Started', s.server.startedAt],
    ['Uptime', duration(s.server.uptimeSeconds)],
    ['Mode', s.server.mode],
    ['Process', s.server.pids.join(', ')],
    ['Requests', `${r.total} done, ${r.inFlight} in flight`],
    ['By status', `1xx ${c['1xx']} · 2xx ${c['2xx']} · 3xx ${c['3xx']} · 4xx ${c['4xx']} · 5xx ${c['5xx']} · none ${c.none} · aborted ${r.aborted}`],
    ['Workers', `${s.workers.busy} busy, ${s.workers.idle} idle, ${s.workers.starting} starting`],
    ['Queue', `${s.queue.length} waiting, oldest ${s.queue.oldestWaitMs} ms`],
    ['Mean time', `${mean(r.durations, 1000)} ms per request, ${mean(s.queue.waits, 1000)} ms queued`],
  ];
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">${refresh}
<title>tsgi server status</title>
<style>${STYLE}</style></head>
<body>
<h1>tsgi server status</h1>
<dl>
${summary.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n')}
</dl>
<h2>Workers</h2>
<table id="workers">
<thead><tr><th>Worker</th><th>State</th><th>Served</th><th>Method</th><th>Request</th><th>Age (ms)</th></tr></thead>
<tbody>
${s.workers.list.map(workerRows).join('\n')}
</tbody>
</table>
<p class="links">Also as <a href="${self}?json">JSON</a> and <a href="${self}/metrics">Prometheus text</a>.</p>
</body></html>
`;
}
