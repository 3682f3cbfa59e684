/**
 * The Prometheus side: one prom-client Registry per metered dispatcher (never the global one, so two
 * servers in one process, or a test next to an app that uses prom-client, do not mix their numbers).
 * Counters and histograms are updated as requests finish; gauges are read from the snapshot at scrape time.
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { MetricsSnapshot, StatusClassCounts } from './snapshot.js';

/** Request-duration buckets, seconds (prom-client's defaults). */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Queue-wait buckets, seconds: finer at the low end, where a healthy pool is. */
export const QUEUE_WAIT_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The metrics of one metered dispatcher, registered in its own Registry. */
export class TsgiRegistry {
  readonly registry = new Registry();
  private readonly requests: Counter<'status_class'>;
  private readonly byClass = new Map<keyof StatusClassCounts, Counter.Internal>();
  private readonly aborted: Counter;
  private readonly durations: Histogram;
  private readonly waits: Histogram;

  /** `snapshot` is called once per scrape, before the gauges are read. */
  constructor(snapshot: () => MetricsSnapshot) {
    const registers = [this.registry];
    let current: MetricsSnapshot | null = null;
    // One snapshot per scrape, so the gauges agree with each other: the first metric collected takes it,
    // the rest of the scrape (same turn of the event loop) reuses it.
    const snap = (): MetricsSnapshot => {
      if (current === null) {
        current = snapshot();
        setImmediate(() => (current = null));
      }
      return current;
    };
    this.requests = new Counter({ name: 'tsgi_requests_total', help: 'Requests whose response is done, by status class (none: ended without a response).', labelNames: ['status_class'], registers });
    this.aborted = new Counter({ name: 'tsgi_responses_aborted_total', help: 'Responses cut short after their headers were sent.', registers });
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
    this.waits = new Histogram({
      name: 'tsgi_queue_wait_seconds',
      help: 'How long requests waited for a worker.',
      buckets: [...QUEUE_WAIT_BUCKETS],
      registers,
      collect() {
        snap(); // taking a snapshot pulls the pool's new queue-wait samples into this histogram
      },
    });
    this.durations = new Histogram({ name: 'tsgi_request_duration_seconds', help: 'From dispatch to the end of the response.', buckets: [...DURATION_BUCKETS], registers });
  }

  /** A request is done. */
  observeRequest(cls: keyof StatusClassCounts, seconds: number, aborted: boolean): void {
    let c = this.byClass.get(cls);
    if (c === undefined) this.byClass.set(cls, (c = this.requests.labels({ status_class: cls })));
    c.inc();
    if (aborted) this.aborted.inc();
    this.durations.observe(seconds);
  }

  /** A request got a worker after waiting `seconds`. */
  observeQueueWait(seconds: number): void {
    this.waits.observe(seconds);
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
  const merged = AggregatorRegistry.aggregate([...parts]);
  return { text: await merged.metrics(), contentType: merged.contentType };
}
