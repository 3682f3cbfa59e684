/**
 * Metrics of a process model (processPool, forking), kept by the supervisor: it counts nothing itself (no
 * request passes through it) but asks every worker for its numbers over the IPC channel when someone looks
 * (`metrics?` -> `metrics`), and adds them up:
 *
 * - the snapshot (status page, JSON) is the workers' snapshots merged (mergeSnapshots), with one row per
 *   worker process: pid, state, what it serves now and for how long, requests served;
 * - the Prometheus counters and histograms are the workers' plain numbers added up, plus those of workers
 *   that have exited (each sends its final numbers before it exits; a killed one's last known numbers are
 *   kept): a pool's counters never go down when a worker is recycled, and under forking, where a child
 *   serves one connection and exits, they are most of the total.
 *
 * A worker that does not answer within a second (its event loop is blocked) is listed as `not answering`
 * with what it last said. The supervisor answers the workers' own status pages too (`status?`), so
 * statusPath on the app's port shows the whole pool whichever worker takes the request.
 */
import type { StatusSource } from '../metrics/endpoints.js';
import { Buckets, DURATION_BUCKETS, QUEUE_WAIT_BUCKETS, TsgiRegistry, type RawMetrics } from '../metrics/registry.js';
import { currentRequest, mergeSnapshots, zeroStatusCounts, type MetricsSnapshot, type WorkerSnapshot } from '../metrics/snapshot.js';
import { isTsgiMessage, type SupervisorMessage, type WorkerMessage, type WorkerReport } from './messages.js';
import type { WorkerSlot } from './worker-slot.js';

/** How long a worker gets to answer `metrics?`. */
const ANSWER_MS = 1000;

interface Pending {
  slot: WorkerSlot;
  resolve(report: WorkerReport | undefined): void;
}

/** Counters that only grow: the numbers of workers that are gone. */
class Departed {
  readonly counts = zeroStatusCounts();
  aborted = 0;
  readonly durations = new Buckets(DURATION_BUCKETS);
  readonly waits = new Buckets(QUEUE_WAIT_BUCKETS);

  add(raw: RawMetrics): void {
    for (const k of Object.keys(this.counts) as (keyof typeof this.counts)[]) this.counts[k] += raw.counts[k] ?? 0;
    this.aborted += raw.aborted;
    this.durations.addRaw(raw.durations);
    this.waits.addRaw(raw.waits);
  }

  /** As a snapshot part for mergeSnapshots: counts only, no process and no worker. */
  part(): MetricsSnapshot {
    const total = this.durations.count;
    return {
      version: 1,
      server: { pids: [], startedAt: new Date().toISOString(), uptimeSeconds: 0, mode: 'departed' },
      requests: { total, inFlight: 0, byStatusClass: { ...this.counts }, aborted: this.aborted, durations: { count: total, sum: this.durations.sum } },
      workers: { total: 0, busy: 0, idle: 0, starting: 0, list: [] },
      queue: { length: 0, oldestWaitMs: 0, waits: { count: this.waits.count, sum: this.waits.sum } },
    };
  }
}

/** One look at the pool: who answered with what. */
interface Collected {
  slots: WorkerSlot[];
  reports: Map<WorkerSlot, WorkerReport>;
}

/** The supervisor's view of its workers' metrics. A StatusSource for the metrics listener. */
export class PoolMetrics implements StatusSource {
  private readonly slots = new Set<WorkerSlot>();
  /** The last numbers each live worker sent (shown for one that does not answer; kept if it is killed). */
  private readonly last = new Map<WorkerSlot, WorkerReport>();
  private readonly departed = new Departed();
  /** Workers whose final numbers are in `departed`: never counted live again. */
  private readonly gone = new WeakSet<WorkerSlot>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly startedAt = Date.now();

  /** `mode`: the concurrency model, shown as the snapshot's server.mode (`processPool`, `forking`). */
  constructor(private readonly mode: string) {}

  /** Follow a new worker: answer its status questions, take its reports, keep its numbers when it exits. */
  attach(slot: WorkerSlot): void {
    this.slots.add(slot);
    slot.child.on('message', (m: unknown) => {
      if (!isTsgiMessage(m)) return;
      const msg = m as WorkerMessage;
      if (msg.tsgi === 'metrics') {
        const p = this.pending.get(msg.id);
        if (p === undefined) return;
        this.pending.delete(msg.id);
        p.resolve(msg.report);
      } else if (msg.tsgi === 'metrics-final') this.depart(slot, msg.report);
      else if (msg.tsgi === 'status?') void this.answerWorker(slot, msg.id, msg.format);
    });
    const settle = (): void => {
      // Killed (or crashed) without its final numbers: keep the last it sent.
      this.depart(slot, this.last.get(slot));
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.resolve(undefined);
      }
    };
    // 'exit' can come before the last messages on the channel are read (its final numbers among them):
    // settle once the channel is closed too, which happens after everything on it was delivered.
    void slot.exited.then(() => (slot.child.connected ? slot.child.once('disconnect', settle) : settle()));
  }

  private depart(slot: WorkerSlot, report: WorkerReport | undefined): void {
    if (this.gone.has(slot)) return;
    this.gone.add(slot);
    this.slots.delete(slot);
    this.last.delete(slot);
    if (report !== undefined) this.departed.add(report.raw);
  }

  /** Ask one worker for its numbers; undefined when it does not answer in time (or cannot: still booting). */
  private ask(slot: WorkerSlot): Promise<WorkerReport | undefined> {
    if (slot.state !== 'ready' && slot.state !== 'draining') return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, ANSWER_MS);
      timer.unref();
      this.pending.set(id, {
        slot,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
      slot.send({ tsgi: 'metrics?', id }).catch(() => this.pending.get(id)?.resolve(undefined));
    });
  }

  private async collect(): Promise<Collected> {
    const slots = [...this.slots];
    const answers = await Promise.all(slots.map((s) => this.ask(s)));
    const reports = new Map<WorkerSlot, WorkerReport>();
    slots.forEach((slot, i) => {
      const r = answers[i];
      // A worker that sent its final numbers while we asked is counted once, as departed.
      if (r === undefined || this.gone.has(slot)) return;
      this.last.set(slot, r);
      reports.set(slot, r);
    });
    return { slots: slots.filter((s) => !this.gone.has(s)), reports };
  }

  /** One row per worker process, in the order they started. */
  private rows(c: Collected, now: number): WorkerSnapshot[] {
    return c.slots.map((slot) => {
      const id = `pid ${slot.pid}`;
      const report = c.reports.get(slot);
      if (slot.state === 'booting') return { id, state: 'starting', served: 0, current: [] };
      const view = (report ?? this.last.get(slot))?.snapshot.workers.list[0];
      const current = (view?.current ?? []).map((r) => currentRequest(r.requestLine, r.startedAt, now));
      let state = view?.state ?? 'idle';
      if (report === undefined) state = 'not answering';
      else if (slot.state === 'draining') state = 'stopping';
      return { id, state, served: view?.served, current };
    });
  }

  private merge(c: Collected): MetricsSnapshot {
    const now = Date.now();
    const merged = mergeSnapshots([...c.reports.values()].map((r) => r.snapshot).concat(this.departed.part()));
    const list = this.rows(c, now);
    merged.server = {
      pids: c.slots.map((s) => s.pid),
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeSeconds: Math.floor((now - this.startedAt) / 1000),
      mode: this.mode,
    };
    merged.workers = {
      total: list.length,
      busy: list.filter((w) => w.state === 'busy').length,
      idle: list.filter((w) => w.state === 'idle').length,
      starting: list.filter((w) => w.state === 'starting').length,
      list,
    };
    return merged;
  }

  /** The pool's numbers now: every worker asked, answers merged with the departed workers' counts. */
  async snapshot(): Promise<MetricsSnapshot> {
    return this.merge(await this.collect());
  }

  /** The Prometheus text: counters and histograms added up over live and departed workers, gauges from the merge. */
  async prometheus(): Promise<{ text: string; contentType: string }> {
    const c = await this.collect();
    const snapshot = this.merge(c);
    const sum = new Departed();
    sum.add({ counts: this.departed.counts, aborted: this.departed.aborted, durations: this.departed.durations.toRaw(), waits: this.departed.waits.toRaw() });
    for (const r of c.reports.values()) sum.add(r.raw);
    const registry = new TsgiRegistry({ snapshot: () => snapshot, counts: sum.counts, aborted: () => sum.aborted, durations: sum.durations, waits: sum.waits });
    return { text: await registry.metrics(), contentType: registry.contentType };
  }

  /** A worker's status page asked for the pool's numbers. */
  private async answerWorker(slot: WorkerSlot, id: number, format: 'snapshot' | 'prometheus'): Promise<void> {
    let answer: SupervisorMessage;
    try {
      answer = format === 'prometheus' ? { tsgi: 'status', id, prometheus: await this.prometheus() } : { tsgi: 'status', id, snapshot: await this.snapshot() };
    } catch (err) {
      answer = { tsgi: 'status', id, error: (err as Error)?.message ?? String(err) };
    }
    await slot.send(answer).catch(() => {}); // it may have exited meanwhile
  }
}
