/**
 * `withMetrics(dispatcher)`: metrics as a Dispatcher wrapper, so they work for every front (HTTP, FastCGI,
 * SCGI, CGI) and every concurrency model without either knowing. The wrapper counts requests as they pass
 * (in flight, done by status class, durations) by watching the ResponseSink's start(), and reads worker and
 * queue state from the wrapped dispatcher when it offers stats() (the thread pool); otherwise the event
 * loop is the one worker.
 *
 * With `statusPath`, the wrapper also answers `GET <statusPath>` (HTML), `<statusPath>?json` and
 * `<statusPath>/metrics` itself, without calling the app, for clients on the allow-list. Those requests are
 * not counted: the numbers are the app's traffic.
 */
import { tsgiError } from '../../app-api/errors.js';
import type { CgiVars, HeaderList } from '../../app-api/types.js';
import { InlineDispatcher, type Dispatcher, type RequestHead } from '../core/dispatch.js';
import { ErrorLog } from '../core/log.js';
import type { ResponseSink } from '../core/sink.js';
import { toAllowList, type AddressAllowList } from '../config/metrics-allow.js';
import { statusApp, type StatusSource } from './endpoints.js';
import { eventLoopSource, hasPoolStats, threadPoolSource, type PoolSource } from './pool-source.js';
import { Buckets, DURATION_BUCKETS, QUEUE_WAIT_BUCKETS, TsgiRegistry, type RawMetrics, type RegistryJSON } from './registry.js';
import { zeroStatusCounts, type MetricsSnapshot, type StatusClassCounts } from './snapshot.js';

/** Options of withMetrics(). */
export interface MetricsOptions {
  /**
   * Answer the status endpoints at this path (`/server-status`): the HTML page, `?json` and `/metrics`.
   * Matched against SCRIPT_NAME + PATH_INFO. Unset (the default): the wrapper only counts.
   */
  statusPath?: string;
  /** Client addresses and subnets that may read the status endpoints (`*`: all). Default loopback only. */
  allow?: readonly string[] | string | AddressAllowList;
  /** Where the status app's own errors go. Default stderr. */
  log?: ErrorLog;
}

/** A request the wrapper has seen start and not yet finish. */
interface Flight {
  cgi: CgiVars;
  startedAt: number;
}

/** Sync the pool's queue-wait samples at least this often (the pool keeps the latest 256). */
const SYNC_EVERY = 64;

/** The request line as the client sent it, from the CGI variables (the pool's Job.requestLine does the same). */
function requestLine(c: CgiVars): string {
  const target = c.REQUEST_URI ?? (c.SCRIPT_NAME ?? '') + (c.PATH_INFO ?? '') + (c.QUERY_STRING ? '?' + c.QUERY_STRING : '');
  return `${c.REQUEST_METHOD} ${target} ${c.SERVER_PROTOCOL}`;
}

const CLASSES: ReadonlyArray<keyof StatusClassCounts> = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** `2xx` for 200..299; `none` for 0 (no response was started). */
function statusClass(code: number): keyof StatusClassCounts {
  return code >= 100 && code < 600 ? CLASSES[Math.floor(code / 100)] : 'none';
}

/** Passes everything through and remembers the status code and whether the response was aborted. */
class MeteredSink implements ResponseSink {
  code = 0;
  aborted = false;
  constructor(private readonly inner: ResponseSink) {}
  get closed(): boolean {
    return this.inner.closed;
  }
  start(code: number, reason: string, headers: HeaderList): void {
    this.code = code;
    this.inner.start(code, reason, headers);
  }
  write(chunk: Buffer): void | Promise<void> {
    return this.inner.write(chunk);
  }
  end(last?: Buffer): void {
    this.inner.end(last);
  }
  abort(err: Error): void {
    this.aborted = true;
    this.inner.abort(err);
  }
}

/** A Dispatcher that meters another one. Build it with withMetrics(). */
export class MeteredDispatcher implements Dispatcher, StatusSource {
  /** The wrapped dispatcher. */
  readonly inner: Dispatcher;
  private registry: TsgiRegistry | undefined;
  readonly allow: AddressAllowList;
  readonly statusPath: string | undefined;
  private readonly startedAt = Date.now();
  private readonly pool: PoolSource;
  private readonly flights = new Set<Flight>();
  private readonly counts = zeroStatusCounts();
  private aborted = 0;
  private readonly durations = new Buckets(DURATION_BUCKETS);
  private readonly waits = new Buckets(QUEUE_WAIT_BUCKETS);
  private sinceSync = 0;
  /** The inner dispatcher has a pool with queue-wait samples to pull. */
  private readonly pooled: boolean;
  private readonly status: InlineDispatcher | null;

  constructor(inner: Dispatcher, opts: MetricsOptions = {}) {
    this.inner = inner;
    this.allow = toAllowList(opts.allow);
    this.pooled = hasPoolStats(inner);
    this.pool = hasPoolStats(inner)
      ? threadPoolSource(inner)
      : eventLoopSource(
          () => [...this.flights.values()].map((f) => ({ requestLine: requestLine(f.cgi), startedAt: f.startedAt })),
          () => this.durations.count,
        );
    const path = opts.statusPath?.replace(/\/+$/, '');
    if (path !== undefined && !/^\/[^?#]+$/.test(path)) {
      throw tsgiError('TSGI_ERR_CONFIG', { where: 'statusPath', problem: `'${opts.statusPath}' must be a path below the root`, fix: 'give one such as /server-status' });
    }
    this.statusPath = path;
    this.status = path === undefined ? null : new InlineDispatcher(statusApp(this, this.allow, path), { log: opts.log ?? new ErrorLog() });
  }

  /** The prom-client metrics of this dispatcher (its own Registry), built on first use (prom-client is loaded then). */
  get metrics(): TsgiRegistry {
    this.registry ??= new TsgiRegistry({
      snapshot: () => this.snapshot(),
      counts: this.counts,
      aborted: () => this.aborted,
      durations: this.durations,
      waits: this.waits,
    });
    return this.registry;
  }

  dispatch(head: RequestHead, sink: ResponseSink): void | Promise<void> {
    if (this.status !== null && this.isStatusRequest(head.cgi)) return this.status.dispatch(head, sink);
    const t0 = performance.now();
    const flight: Flight = { cgi: head.cgi, startedAt: performance.timeOrigin + t0 };
    this.flights.add(flight);
    const metered = new MeteredSink(sink);
    const done = (): void => this.finish(flight, t0, metered);
    let result: void | Promise<void>;
    try {
      result = this.inner.dispatch(head, metered);
    } catch (err) {
      done();
      throw err;
    }
    if (result === undefined || typeof (result as Promise<void>).then !== 'function') {
      done();
      return;
    }
    return (result as Promise<void>).then(done, (err: unknown) => {
      done();
      throw err;
    });
  }

  private finish(flight: Flight, t0: number, sink: MeteredSink): void {
    this.flights.delete(flight);
    this.counts[statusClass(sink.code)]++;
    if (sink.aborted) this.aborted++;
    this.durations.observe((performance.now() - t0) / 1000);
    if (this.pooled && ++this.sinceSync >= SYNC_EVERY) this.syncWaits();
  }

  /** Move the pool's new queue-wait samples into the histogram. */
  private syncWaits(): void {
    this.sinceSync = 0;
    for (const ms of this.pool.takeNewWaits()) this.waits.observe(ms / 1000);
  }

  private isStatusRequest(cgi: CgiVars): boolean {
    const base = this.statusPath!;
    const script = cgi.SCRIPT_NAME ?? '';
    const path = script === '' ? (cgi.PATH_INFO ?? '') : script + (cgi.PATH_INFO ?? ''); // no new string in the common case
    return path.startsWith(base) && (path.length === base.length || path.charCodeAt(base.length) === 47); // '/'
  }

  /** The current numbers, as plain data (what `?json` returns). */
  snapshot(): MetricsSnapshot {
    this.syncWaits();
    const now = Date.now();
    const p = this.pool.read(now);
    return {
      version: 1,
      server: { pids: [process.pid], startedAt: new Date(this.startedAt).toISOString(), uptimeSeconds: Math.floor((now - this.startedAt) / 1000), mode: p.mode },
      requests: {
        total: this.durations.count,
        inFlight: this.flights.size,
        byStatusClass: { ...this.counts },
        aborted: this.aborted,
        durations: { count: this.durations.count, sum: this.durations.sum },
      },
      workers: { total: p.workers.length, busy: p.busy, idle: p.idle, starting: p.starting, list: p.workers },
      queue: { length: p.queueLength, oldestWaitMs: p.oldestQueuedMs, waits: { count: this.waits.count, sum: this.waits.sum } },
    };
  }

  /** The Prometheus text exposition and its Content-Type. */
  async prometheus(): Promise<{ text: string; contentType: string }> {
    return { text: await this.metrics.metrics(), contentType: this.metrics.contentType };
  }

  /** The counters and histograms as plain data, for a process-pool primary that adds up its workers'. */
  raw(): RawMetrics {
    this.syncWaits();
    return { counts: { ...this.counts }, aborted: this.aborted, durations: this.durations.toRaw(), waits: this.waits.toRaw() };
  }

  /** The metrics as JSON for mergePrometheus (a process-pool primary merging its workers). */
  prometheusJSON(): Promise<RegistryJSON> {
    return this.metrics.registry.getMetricsAsJSON();
  }

  /** Close the wrapped dispatcher; arguments (the thread pool's graceMs) are passed through. */
  close(...args: unknown[]): Promise<void> {
    return (this.inner.close as (...a: unknown[]) => Promise<void>).apply(this.inner, args);
  }
}

/**
 * Meter a dispatcher:
 *
 *     const dispatcher = withMetrics(new InlineDispatcher(app, { log }), { statusPath: '/server-status' });
 *     await startHttpServer(dispatcher, { port: 8080 });
 *     // curl http://127.0.0.1:8080/server-status?json
 */
export function withMetrics(inner: Dispatcher, opts: MetricsOptions = {}): MeteredDispatcher {
  return new MeteredDispatcher(inner, opts);
}
