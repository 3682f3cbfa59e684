/**
 * The life of one worker as its supervisor sees it, whether the worker is a thread (gateway/threads) or a
 * process (gateway/process): it boots, becomes ready, may be busy, drains when asked to leave, and exits.
 * The bookkeeping every supervisor needs is written here once: the `ready` promise (resolved when the app is
 * loaded, rejected with the boot error if the worker exits first), the `exited` promise, whether the app was
 * ever loaded, and whether the exit was asked for, which decides the replace-on-exit policy (`exitCause`).
 */

/**
 * - booting: started, loading the app; ready: serving (a thread: waiting for a request); busy: a thread
 *   serving one (a process serves many at once and stays `ready`);
 * - draining: asked to leave, finishing what it has (a thread: its last request, or its lifecycle end);
 *   it takes nothing new;
 * - exited: the thread or process has ended.
 */
export type SlotPhase = 'booting' | 'ready' | 'busy' | 'draining' | 'exited';

/**
 * Why a worker ended, for the supervisor's replace-on-exit policy: `expected` (it was told to: retired,
 * reloaded, stopped, killed as stuck) needs no replacement beyond what the supervisor planned; `bootFailure`
 * (ended before it loaded the app) is replaced with backoff; `crash` (ended on its own while serving) is
 * replaced at once.
 */
export type ExitCause = 'expected' | 'bootFailure' | 'crash';

/** A worker's lifecycle. `E` is how it ended (exit code, signal, error). */
export class Slot<E> {
  /** Where it is in its life. */
  phase: SlotPhase = 'booting';
  /** True once the app is loaded in the worker (it reached `ready`). */
  loaded = false;
  /** The supervisor asked it to end: its exit is not a crash. */
  expectedExit = false;
  /** Resolves when the app is loaded; rejects with the boot error if the worker exits first. */
  readonly ready: Promise<void>;
  /** Resolves when the worker has ended. */
  readonly exited: Promise<E>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private resolveExited!: (exit: E) => void;

  constructor() {
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Nobody may be waiting on `ready` any more (a reload gave up): never an unhandled rejection.
    this.ready.catch(() => {});
    this.exited = new Promise<E>((resolve) => (this.resolveExited = resolve));
  }

  /** The worker loaded the app. */
  protected markReady(): void {
    this.loaded = true;
    if (this.phase === 'booting') this.phase = 'ready';
    this.resolveReady();
  }

  /** The worker ended. `bootError` is what `ready` rejects with if it never loaded the app. */
  protected markExited(exit: E, bootError: () => Error): void {
    this.phase = 'exited';
    if (!this.loaded) this.rejectReady(bootError());
    this.resolveExited(exit);
  }

  /** The supervisor tells it to leave: it takes nothing new, and its exit is expected. */
  protected markDraining(): void {
    this.expectedExit = true;
    if (this.phase !== 'exited') this.phase = 'draining';
  }

  /** Booting, ready or busy: it counts toward the number of workers the supervisor keeps. */
  get active(): boolean {
    return this.phase === 'booting' || this.phase === 'ready' || this.phase === 'busy';
  }

  /** Why it ended (meaningful once `exited`). */
  get exitCause(): ExitCause {
    if (this.expectedExit) return 'expected';
    return this.loaded ? 'crash' : 'bootFailure';
  }
}

/**
 * Retry delays for workers that cannot load the app (a crash loop would otherwise spin): `firstMs`,
 * doubling per failure in a row, at most `maxMs`; a worker that loads resets it.
 */
export class BootBackoff {
  /** Boot failures in a row. */
  failures = 0;

  constructor(private readonly firstMs: number, private readonly maxMs: number) {}

  /** A worker ended before it loaded the app. */
  failed(): void {
    this.failures++;
  }

  /** A worker loaded the app. */
  succeeded(): void {
    this.failures = 0;
  }

  /** How long to wait before the next start: 0 while nothing failed. */
  delayMs(): number {
    if (this.failures === 0) return 0;
    // The exponent is capped so the delay stays a finite number however long the loop runs.
    return Math.min(this.maxMs, this.firstMs * 2 ** Math.min(this.failures - 1, 30));
  }
}
