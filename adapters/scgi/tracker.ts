/**
 * The connections a socket front is serving, for a graceful stop: idle ones (no request yet) are closed at
 * once, busy ones get a grace period to finish their request, then are cut.
 */

/** What the tracker needs to know about a connection. */
export interface TrackedConnection {
  /** True while a request is in progress. */
  readonly busy: boolean;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>;
  /** Call `cb` once the connection has closed (at once if it has). */
  onClosed(cb: () => void): void;
  destroy(): void;
}

/** A set of live connections. */
export class ConnectionTracker {
  private readonly live = new Set<TrackedConnection>();

  /** Track `conn` until it closes. */
  add(conn: TrackedConnection): void {
    this.live.add(conn);
    conn.onClosed(() => this.live.delete(conn));
  }

  get size(): number {
    return this.live.size;
  }

  /** Close idle connections now and busy ones after at most `graceMs`; resolves when all are closed. */
  async drain(graceMs: number, onForce?: (count: number) => void): Promise<void> {
    for (const c of this.live) if (!c.busy) c.destroy();
    if (this.live.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const force = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        onForce?.(this.live.size);
        for (const c of this.live) c.destroy();
        resolve();
      }, graceMs);
      timer.unref();
    });
    await Promise.race([Promise.all([...this.live].map((c) => c.closed)), force]);
    clearTimeout(timer);
  }
}
