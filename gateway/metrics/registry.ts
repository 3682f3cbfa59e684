/**
 * The Prometheus side: one prom-client Registry per metered dispatcher (never the global one, so two
 * servers in one process, or a test next to an app that uses prom-client, do not mix their numbers).
 *
 * The request path only does plain arithmetic: the request counts and histogram buckets live in the
 * MeteredDispatcher (Buckets below) and are turned into prom-client metric objects at scrape time. (Calling
 * prom-client's Counter.inc and Histogram.observe per request cost about 2 µs a request, label hashing
 * mostly, against ~4 µs for the whole inline dispatch of a hello-world app.) Gauges are read from the
 * snapshot at scrape time with prom-client's own Gauge.
 */
import { createRequire } from 'node:module';
import type { Metric, MetricObjectWithValues, MetricValue, MetricValueWithName, Registry } from 'prom-client';
import type { MetricsSnapshot, StatusClassCounts } from './snapshot.js';

type PromClient = typeof import('prom-client');
let promClientModule: PromClient | undefined;
/**
 * prom-client, loaded the first time a registry is built or merged, not when this module is imported: it
 * is a fifth of a worker process's start-up, and a worker (a forked child starts per connection) counts
 * requests without ever formatting them. prom-client is CommonJS, so it can be required synchronously.
 */
function promClient(): PromClient {
  promClientModule ??= createRequire(import.meta.url)('prom-client') as PromClient;
  return promClientModule;
}

/** Request-duration buckets, seconds (prom-client's defaults). */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Queue-wait buckets, seconds: finer at the low end, where a healthy pool is. */
export const QUEUE_WAIT_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A histogram's counts, updated with plain arithmetic. */
export class Buckets {
  /** Observations per bucket (not cumulative); beyond the last bound they only count in `count`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  /** The numbers as plain data (to send to another process). */
  toRaw(): RawBuckets {
    return { counts: [...this.counts], sum: this.sum, count: this.count };
  }
  /** Add another histogram's numbers (same bounds) to this one. */
  addRaw(raw: RawBuckets): void {
    for (let i = 0; i < this.counts.length && i < raw.counts.length; i++) this.counts[i] += raw.counts[i];
    this.sum += raw.sum;
    this.count += raw.count;
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

/** A histogram's numbers as plain data: per-bucket (not cumulative) counts, sum and count. */
export interface RawBuckets {
  counts: number[];
  sum: number;
  count: number;
}

/**
 * The counters and histograms of one metered dispatcher as plain data, so that a process-pool primary can
 * add up its workers' (and keep those of workers that exited): counters only grow.
 */
export interface RawMetrics {
  counts: StatusClassCounts;
  aborted: number;
  durations: RawBuckets;
  waits: RawBuckets;
}

/** The plain numbers the registry reports. */
export interface RegistrySources {
  /** Taken once per scrape, for the gauges. */
  snapshot(): MetricsSnapshot;
  counts: Readonly<StatusClassCounts>;
  aborted(): number;
  durations: Buckets;
  waits: Buckets;
}

type Values = MetricValueWithName<string>[];

/**
 * A metric object the prom-client Registry formats and aggregates like its own (it only calls get()).
 * The cast: prom-client declares `type` as a numeric enum but formats the string it finds there.
 */
function custom(registry: Registry, name: string, help: string, type: 'counter' | 'histogram', values: () => Values): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
      return { name, help, type, aggregator: 'sum', values: values() } as unknown as MetricObjectWithValues<MetricValueWithName<string>>;
    },
  };
  registry.registerMetric(metric as unknown as Metric<string>);
}

function histogramValues(name: string, b: Buckets): Values {
  const out: Values = [];
  let cumulative = 0;
  for (let i = 0; i < b.bounds.length; i++) {
    cumulative += b.counts[i];
    out.push({ labels: { le: b.bounds[i] }, value: cumulative, metricName: `${name}_bucket` });
  }
  out.push({ labels: { le: '+Inf' }, value: b.count, metricName: `${name}_bucket` });
  out.push({ labels: {}, value: b.sum, metricName: `${name}_sum` });
  out.push({ labels: {}, value: b.count, metricName: `${name}_count` });
  return out;
}

/** The metrics of one metered dispatcher, in its own Registry. */
export class TsgiRegistry {
  readonly registry: Registry;

  constructor(src: RegistrySources) {
    const { Gauge, Registry } = promClient();
    this.registry = new Registry();
    const registers = [this.registry];
    let current: MetricsSnapshot | null = null;
    // One snapshot per scrape, so the gauges agree with each other (and the pool's new queue-wait samples
    // are pulled in before the histogram is read): the first metric read takes it, the rest of the scrape
    // (same turn of the event loop) reuses it.
    const snap = (): MetricsSnapshot => {
      if (current === null) {
        current = src.snapshot();
        setImmediate(() => (current = null));
      }
      return current;
    };
    custom(this.registry, 'tsgi_requests_total', 'Requests whose response is done, by status class (none: ended without a response).', 'counter', () =>
      (Object.keys(src.counts) as (keyof StatusClassCounts)[]).map((c) => ({ labels: { status_class: c }, value: src.counts[c] })),
    );
    custom(this.registry, 'tsgi_responses_aborted_total', 'Responses cut short after their headers were sent.', 'counter', () => [{ labels: {}, value: src.aborted() }]);
    new Gauge({
      name: 'tsgi_requests_in_flight',
      help: 'Requests received and not yet done (queued or running).',
      registers,
      collect() {
        this.set(snap().requests.inFlight);
      },
    });
    new Gauge({
      name: 'tsgi_workers',
      help: 'Workers (pool threads; the event loop in single mode) by state.',
      labelNames: ['state'],
      registers,
      collect() {
        const w = snap().workers;
        this.set({ state: 'busy' }, w.busy);
        this.set({ state: 'idle' }, w.idle);
        this.set({ state: 'starting' }, w.starting);
      },
    });
    new Gauge({
      name: 'tsgi_queue_length',
      help: 'Requests waiting for a worker.',
      registers,
      collect() {
        this.set(snap().queue.length);
      },
    });
    new Gauge({
      name: 'tsgi_uptime_seconds',
      help: 'Seconds since the metered dispatcher was created.',
      registers,
      collect() {
        this.set(snap().server.uptimeSeconds);
      },
    });
    custom(this.registry, 'tsgi_queue_wait_seconds', 'How long requests waited for a worker.', 'histogram', () => {
      snap();
      return histogramValues('tsgi_queue_wait_seconds', src.waits);
    });
    custom(this.registry, 'tsgi_request_duration_seconds', 'From dispatch to the end of the response.', 'histogram', () => histogramValues('tsgi_request_duration_seconds', src.durations));
  }

  /** The Prometheus text exposition. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type of metrics(). */
  get contentType(): string {
    return this.registry.contentType;
  }
}

/** A registry's metrics as JSON, the form mergePrometheus takes (send it over IPC). */
export type RegistryJSON = MetricObjectWithValues<MetricValue<string>>[];

/**
 * Merge the metrics of several processes (each `registry.getMetricsAsJSON()`) into one Prometheus text:
 * counters, gauges and histogram buckets are summed. For a process-pool primary that collects its workers'.
 */
export async function mergePrometheus(parts: readonly RegistryJSON[]): Promise<{ text: string; contentType: string }> {
  const merged = promClient().AggregatorRegistry.aggregate([...parts]);
  return { text: await merged.metrics(), contentType: merged.contentType };
}
