/**
 * Process signals. SIGINT (Ctrl-C) and SIGTERM stop gracefully: stop accepting, let in-flight requests
 * finish (within gracefulTimeout), exit 0. A second SIGINT/SIGTERM while stopping exits at once with 1.
 * SIGHUP reloads when the mode can (a `reload` handler is given); otherwise it is logged and ignored: Node's
 * default action would end the server, and a HUP sent out of habit (logrotate's postrotate) must not.
 */

/** What each signal does. Extend this table, not the handler code, to give a signal a new meaning. */
export const SIGNAL_ACTIONS = {
  SIGINT: 'stop',
  SIGTERM: 'stop',
  SIGHUP: 'reload',
} as const satisfies Partial<Record<NodeJS.Signals, 'stop' | 'reload'>>;

/** The handlers a server provides. */
export interface SignalHandlers {
  /** Graceful stop; the process exits 0 when it resolves (1 if it rejects). */
  stop(signal: NodeJS.Signals): Promise<void>;
  /** Reload the app / workers. Without it SIGHUP is logged and ignored. */
  reload?(signal: NodeJS.Signals): Promise<void>;
}

/** Options for installSignalHandlers. */
export interface SignalOptions {
  /** Where to say what is happening; default stderr. */
  say?: (line: string) => void;
  /** Default process.exit; tests may replace it. */
  exit?: (code: number) => void;
}

/** Install the handlers; returns a function that removes them. */
export function installSignalHandlers(handlers: SignalHandlers, opts: SignalOptions = {}): () => void {
  const say = opts.say ?? ((line: string) => process.stderr.write(`tsgi: ${line}\n`));
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  let reloading = false;
  const installed: [NodeJS.Signals, () => void][] = [];

  for (const [signal, action] of Object.entries(SIGNAL_ACTIONS) as [NodeJS.Signals, 'stop' | 'reload'][]) {
    let listener: () => void;
    if (action === 'stop') {
      listener = () => {
        if (stopping) {
          say(`${signal} again: exiting now without waiting for in-flight requests`);
          exit(1);
          return;
        }
        stopping = true;
        say(`${signal}: stopping; in-flight requests may finish (send ${signal} again to exit at once)`);
        handlers.stop(signal).then(
          () => exit(0),
          (err: unknown) => {
            say(`error while stopping: ${(err as Error)?.message ?? String(err)}`);
            exit(1);
          },
        );
      };
    } else {
      const reload = handlers.reload;
      if (reload === undefined) {
        listener = () => say(`${signal}: this concurrency model cannot reload the app in place; ignored (use threadPool or processPool for SIGHUP reloads)`);
        process.on(signal, listener);
        installed.push([signal, listener]);
        continue;
      }
      listener = () => {
        if (stopping || reloading) return;
        reloading = true;
        say(`${signal}: reloading`);
        reload(signal).then(
          () => void (reloading = false),
          (err: unknown) => {
            reloading = false;
            say(`reload failed, still serving the previous app: ${(err as Error)?.message ?? String(err)}`);
          },
        );
      };
    }
    process.on(signal, listener);
    installed.push([signal, listener]);
  }
  return () => {
    for (const [signal, listener] of installed) process.off(signal, listener);
  };
}
