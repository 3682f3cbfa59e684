/**
 * The plain-data picture of a server that the JSON endpoint returns and the HTML page and Prometheus
 * gauges are drawn from. Plain and structured-clonable on purpose: a process-pool primary can collect one
 * from each worker over IPC and merge them (mergeSnapshots).
 */

/** Response counts by status class; `none` = the request ended without a response (client gone first). */
export interface StatusClassCounts {
  '1xx': number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
  none: number;
}

/** One request a worker is serving now. */
export interface CurrentRequest {
  /** `GET /path?q HTTP/1.1`, as the client sent it (untrusted text: escape before display). */
  requestLine: string;
  method: string;
  /** The request target (path and query). */
  target: string;
  /** When the worker started on it, epoch ms. */
  startedAt: number;
  /** How long it has been running at snapshot time, ms. */
  ageMs: number;
}

/** One worker: a pool thread, a worker process, or the event loop in single mode. */
export interface WorkerSnapshot {
  /** Stable within the server: `thread 3`, `event loop`, `pid 1234/thread 2` after a merge. */
  id: string;
  /** `idle`, `busy`, `starting`, `retiring`, `stopping`. */
  state: string;
  /** Requests this worker has taken; undefined where not known. */
  served?: number;
  /** What it serves now: at most one for a pool thread, any number for the event loop. */
  current: CurrentRequest[];
}

/** Sum and count of a histogram, enough for a mean (the buckets are in the Prometheus text). */
export interface HistogramSummary {
  count: number;
  /** Seconds. */
  sum: number;
}

/** Everything the status endpoints show. */
export interface MetricsSnapshot {
  /** Format version of this object. */
  version: 1;
  server: {
    /** Process id(s) serving. */
    pids: number[];
    /** When the metered dispatcher was created (the oldest one after a merge), ISO 8601. */
    startedAt: string;
    uptimeSeconds: number;
    /** `inline` (single), `pool` (threadPool), `perRequest` (threading), or `merged` (several processes). */
    mode: string;
  };
  requests: {
    /** Requests whose response is done (including ones the pool answered 503/504). */
    total: number;
    inFlight: number;
    byStatusClass: StatusClassCounts;
    /** Responses cut short after their headers went out (abort()). */
    aborted: number;
    durations: HistogramSummary;
  };
  workers: {
    total: number;
    busy: number;
    idle: number;
    /** Still booting (pool threads load the app first). */
    starting: number;
    list: WorkerSnapshot[];
  };
  queue: {
    length: number;
    /** How long the oldest queued request has waited, ms. */
    oldestWaitMs: number;
    waits: HistogramSummary;
  };
}

/** A fresh all-zero count. */
export function zeroStatusCounts(): StatusClassCounts {
  return { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, none: 0 };
}

/** `GET /a?b HTTP/1.1` -> method `GET`, target `/a?b`. Tolerates a line without a protocol. */
export function splitRequestLine(line: string): { method: string; target: string } {
  const first = line.indexOf(' ');
  if (first < 0) return { method: line, target: '' };
  const last = line.lastIndexOf(' ');
  const rest = line.slice(last + 1);
  const hasProtocol = last > first && /^[A-Z]+\/\d/.test(rest);
  return { method: line.slice(0, first), target: hasProtocol ? line.slice(first + 1, last) : line.slice(first + 1) };
}

/** A CurrentRequest from a request line and its start time. */
export function currentRequest(requestLine: string, startedAt: number, now: number): CurrentRequest {
  // Whole ms: startedAt comes from performance.now() (fractional), and the page shows the age as is.
  return { requestLine, ...splitRequestLine(requestLine), startedAt, ageMs: Math.max(0, Math.round(now - startedAt)) };
}

/**
 * Merge the snapshots of several processes (a process pool's workers) into one: counts add up, worker ids
 * get the process id in front, uptime is the oldest. For Prometheus, merge the registries' JSON instead
 * (mergePrometheus in registry.ts), which also adds the histogram buckets.
 */
export function mergeSnapshots(parts: readonly MetricsSnapshot[]): MetricsSnapshot {
  const out: MetricsSnapshot = {
    version: 1,
    server: { pids: [], startedAt: new Date().toISOString(), uptimeSeconds: 0, mode: 'merged' },
    requests: { total: 0, inFlight: 0, byStatusClass: zeroStatusCounts(), aborted: 0, durations: { count: 0, sum: 0 } },
    workers: { total: 0, busy: 0, idle: 0, starting: 0, list: [] },
    queue: { length: 0, oldestWaitMs: 0, waits: { count: 0, sum: 0 } },
  };
  for (const p of parts) {
    out.server.pids.push(...p.server.pids);
    if (p.server.uptimeSeconds > out.server.uptimeSeconds) {
      out.server.uptimeSeconds = p.server.uptimeSeconds;
      out.server.startedAt = p.server.startedAt;
    }
    out.requests.total += p.requests.total;
    out.requests.inFlight += p.requests.inFlight;
    out.requests.aborted += p.requests.aborted;
    for (const k of Object.keys(out.requests.byStatusClass) as (keyof StatusClassCounts)[]) out.requests.byStatusClass[k] += p.requests.byStatusClass[k];
    out.requests.durations.count += p.requests.durations.count;
    out.requests.durations.sum += p.requests.durations.sum;
    out.workers.total += p.workers.total;
    out.workers.busy += p.workers.busy;
    out.workers.idle += p.workers.idle;
    out.workers.starting += p.workers.starting;
    const prefix = p.server.pids.length === 1 ? `pid ${p.server.pids[0]}/` : '';
    for (const w of p.workers.list) out.workers.list.push({ ...w, id: prefix + w.id, current: w.current.map((c) => ({ ...c })) });
    out.queue.length += p.queue.length;
    out.queue.oldestWaitMs = Math.max(out.queue.oldestWaitMs, p.queue.oldestWaitMs);
    out.queue.waits.count += p.queue.waits.count;
    out.queue.waits.sum += p.queue.waits.sum;
  }
  return out;
}
