/**
 * `--reload` (development only, off by default): the command becomes a small supervisor that runs the real
 * server as a child process and starts a new one when a source file under the working directory changes,
 * as uvicorn's and gunicorn's `--reload` do. A whole new process, not the SIGHUP reload, because a code
 * change can be anywhere (the app, a module it imports, the config file) and single mode cannot reload in
 * place; ES modules cannot be unloaded from a running process.
 *
 * A child that fails to start (a syntax error) is not retried in a loop: the supervisor waits for the next
 * change. SIGINT/SIGTERM stop the child gracefully and the supervisor exits with its code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/** Set in the child's environment: the child serves instead of supervising. */
export const RELOAD_CHILD_ENV = 'TSGI_RELOAD_CHILD';

/** What counts as a source change. */
const WATCHED = /\.(m?[jt]s|c[jt]s|json|cfg|ini|conf)$/;
const IGNORED = /(^|[\\/])(node_modules|\.git)([\\/]|$)/;
/** Editors save in bursts (write, rename, chmod): one restart per burst. */
const DEBOUNCE_MS = 150;

/** Options of runWithReload. */
export interface ReloadOptions {
  /** The CLI entry to run in the child. */
  cli: string;
  /** The command-line arguments for the child (the supervisor's own). */
  argv: readonly string[];
  /** The folder watched, recursively. Default: the working directory. */
  dir?: string;
  /** Where to say what happens. Default: stderr. */
  say?: (line: string) => void;
}

/** True when this process is the child of a `--reload` supervisor. */
export function isReloadChild(): boolean {
  return process.env[RELOAD_CHILD_ENV] === '1';
}

/** Supervise the server: start it, restart it on source changes, stop it on SIGINT/SIGTERM. Never resolves. */
export function runWithReload(opts: ReloadOptions): Promise<never> {
  const say = opts.say ?? ((line: string) => process.stderr.write(`tsgi: ${line}\n`));
  const dir = path.resolve(opts.dir ?? process.cwd());
  let child: ChildProcess | null = null;
  let stopping = false;
  let restartPending = false;
  let timer: NodeJS.Timeout | null = null;

  const start = (): void => {
    const c = spawn(process.execPath, [...process.execArgv, opts.cli, ...opts.argv], {
      stdio: 'inherit',
      env: { ...process.env, [RELOAD_CHILD_ENV]: '1' },
    });
    child = c;
    c.on('exit', (code, signal) => {
      if (child === c) child = null;
      if (stopping) process.exit(code ?? 1);
      if (restartPending) {
        restartPending = false;
        start();
      } else say(`the server exited (${signal ?? `code ${String(code)}`}); waiting for a change under ${dir} to start it again`);
    });
  };

  const restart = (file: string): void => {
    say(`${file} changed: restarting`);
    if (child === null) return start();
    restartPending = true;
    child.kill('SIGTERM');
  };

  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { recursive: true }, (_event, name) => {
      const file = name === null ? '' : name.toString();
      if (file === '' || IGNORED.test(file) || !WATCHED.test(file) || stopping) return;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        restart(file);
      }, DEBOUNCE_MS);
    });
  } catch (err) {
    say(`--reload cannot watch ${dir} (${(err as Error).message}); serving without reload`);
    start();
    return new Promise(() => {});
  }

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      child?.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    watcher.close();
    if (child === null) process.exit(0);
    child.kill(signal);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  say(`--reload: watching ${dir} for changes (development only)`);
  start();
  return new Promise(() => {});
}
