/**
 * Whether this server still wants new traffic, for a load balancer's health check (`readyPath`). One
 * Readiness per process that answers requests: the server process in single, threading and threadPool
 * modes, each worker process under processPool and forking (told by its supervisor). It only ever goes one
 * way: ready -> draining, when the server is stopping (SIGTERM, SIGINT). A worker retired by a reload or
 * maxRequests is not the host going away, so it stays ready: its replacement already serves.
 */

/** The one-way ready -> draining switch. */
export class Readiness {
  private drainingSince: number | undefined;

  /** True until markDraining(). */
  get ready(): boolean {
    return this.drainingSince === undefined;
  }

  /** The server is stopping: readyPath answers 503 from now on. Idempotent. */
  markDraining(): void {
    this.drainingSince ??= Date.now();
  }
}
