/**
 * The lifecycle bus, after CherryPy's `cherrypy.engine`: a process publishes what happens to it on a few
 * channels, and apps and tools subscribe to open and close what they own (database pools, caches, files).
 *
 * Every process that runs the app has its own engine (single mode: the server process; processPool: each
 * worker process; forking: each child). In a process's life the channels are published in this order:
 *
 *     start -> (serving requests) -> [reload] -> graceful -> stop -> exit
 *
 * - `start`: the app is loaded and the process is about to take requests. A listener that throws fails the
 *   boot: the process exits with status 1 before it accepts anything (a pool reports it and gives up).
 * - `reload`: only when this process is being retired because the app code is reloaded (SIGHUP). A fresh
 *   process with the new code already serves; this one will drain next.
 * - `graceful`: the process stopped accepting connections and is finishing in-flight requests (SIGTERM,
 *   SIGINT, reload, maxRequests recycling, a worker timed out).
 * - `stop`: in-flight requests are done (or the grace period ran out): close pools, flush caches.
 * - `exit`: the last word before the process exits.
 *
 * Listeners run one after another in priority order (lower first, CherryPy's default priority is 50), and
 * async listeners are awaited, so a pool opened in `start` is ready before the first request.
 */
import type { ErrorLog } from '../core/log.js';

/** The channels, in the order a process goes through them. */
export const CHANNELS = ['start', 'reload', 'graceful', 'stop', 'exit'] as const;

/** A lifecycle channel. */
export type Channel = (typeof CHANNELS)[number];

/** What a listener is told. */
export interface LifecycleEvent {
  channel: Channel;
  /** The process this engine belongs to. */
  pid: number;
  /** Why the process is going down (graceful/stop/exit/reload): `signal`, `reload`, `maxRequests`, `timeout`, `connectionClosed`. */
  reason?: string;
}

/** A subscriber. May return a promise: the engine waits for it before the next listener. */
export type Listener = (event: LifecycleEvent) => void | Promise<void>;

/** The error a listener threw, with where. */
export interface ListenerFailure {
  channel: Channel;
  error: unknown;
}

interface Entry {
  fn: Listener;
  priority: number;
  seq: number;
}

/** The bus of one process. */
export class Engine {
  private readonly listeners = new Map<Channel, Entry[]>();
  private readonly published = new Set<Channel>();
  private seq = 0;

  constructor(private readonly log?: ErrorLog) {}

  /**
   * Call `fn` on every publication of `channel`. Lower `priority` runs first (default 50, as CherryPy).
   * Returns a function that unsubscribes.
   */
  subscribe(channel: Channel, fn: Listener, priority = 50): () => void {
    if (!CHANNELS.includes(channel)) {
      throw new TypeError(`engine.subscribe: unknown channel ${JSON.stringify(channel)}; use one of ${CHANNELS.join(', ')}`);
    }
    if (typeof fn !== 'function') throw new TypeError(`engine.subscribe('${channel}', fn): fn must be a function`);
    const list = this.listeners.get(channel) ?? [];
    list.push({ fn, priority, seq: this.seq++ });
    list.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    this.listeners.set(channel, list);
    return () => this.unsubscribe(channel, fn);
  }

  /** Remove `fn` from `channel` (every registration of it). */
  unsubscribe(channel: Channel, fn: Listener): void {
    const list = this.listeners.get(channel);
    if (list === undefined) return;
    this.listeners.set(
      channel,
      list.filter((e) => e.fn !== fn),
    );
  }

  /** True once `channel` has been published in this process. */
  hasPublished(channel: Channel): boolean {
    return this.published.has(channel);
  }

  /**
   * Run the listeners of `channel` in order. A listener that throws is logged and the others still run;
   * the failures are returned so the caller can decide (a failed `start` aborts the boot).
   */
  async publish(channel: Channel, reason?: string): Promise<ListenerFailure[]> {
    this.published.add(channel);
    const failures: ListenerFailure[] = [];
    const event: LifecycleEvent = { channel, pid: process.pid, ...(reason === undefined ? {} : { reason }) };
    // A copy: a listener may unsubscribe itself (or others) while we iterate.
    for (const { fn } of [...(this.listeners.get(channel) ?? [])]) {
      try {
        await fn(event);
      } catch (error) {
        failures.push({ channel, error });
        this.log?.log('error', `a '${channel}' lifecycle listener failed`, error);
      }
    }
    return failures;
  }
}
