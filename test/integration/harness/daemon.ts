/**
 * Run a web server (or our own backend) in the foreground as a child process: start it, wait until its
 * ports answer, stop it (signal, wait for the exit, SIGKILL as a last resort), and keep its output and log
 * files at hand so a failing test can print why the server was unhappy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPorts } from './ports.js';

/** A temp dir that the server's unprivileged workers (www-data, nobody) can enter. Remove it with rmSync. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tsgi-it-${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** How to run one daemon. */
export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Ready when all of these TCP ports on 127.0.0.1 accept connections. */
  ports: number[];
  /** Log files to print when something fails (error logs). */
  logFiles?: string[];
  /** Signal for a graceful stop. Default SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** How long to wait for the ports. Default 20 s. */
  startLimitMs?: number;
}

const KEEP = 64 * 1024;

/** A running daemon. */
export class Daemon {
  private output = '';
  private exit: string | undefined;
  private readonly exited: Promise<void>;
  readonly child: ChildProcess;

  constructor(readonly spec: DaemonSpec) {
    this.child = spawn(spec.command, spec.args, { env: spec.env ?? process.env, cwd: spec.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => {
      this.output += b.toString('utf8');
      if (this.output.length > KEEP) this.output = this.output.slice(-KEEP);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.exit = `could not start ${spec.command}: ${err.message}`;
        resolve();
      });
      this.child.once('exit', (code, signal) => {
        this.exit = `${spec.name} exited (code ${code}, signal ${signal})`;
        resolve();
      });
    });
  }

  /** Start and wait until ready; on failure the error message holds the output and the logs. */
  static async start(spec: DaemonSpec): Promise<Daemon> {
    const d = new Daemon(spec);
    try {
      await waitForPorts(spec.ports, spec.startLimitMs ?? 20_000, () => d.exit);
    } catch (err) {
      await d.stop();
      throw new Error(`${spec.name} did not start: ${(err as Error).message}\n${d.diagnostics()}`);
    }
    return d;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.exit === undefined;
  }

  /** Command line, recent output and the tail of every log file: what to print when a test fails. */
  diagnostics(tail = KEEP): string {
    let out = `--- ${this.spec.name}: ${this.spec.command} ${this.spec.args.join(' ')}\n`;
    if (this.exit !== undefined) out += `--- ${this.exit}\n`;
    if (this.output !== '') out += `--- output:\n${this.output}\n`;
    for (const f of this.spec.logFiles ?? []) {
      if (!existsSync(f)) continue;
      const text = readFileSync(f, 'utf8');
      out += `--- ${f}:\n${text.length > tail ? text.slice(-tail) : text}\n`;
    }
    return out;
  }

  /** Stop gracefully; SIGKILL after `limitMs`. Resolves when the process is gone. */
  async stop(limitMs = 10_000): Promise<void> {
    if (this.exit !== undefined) return;
    this.child.kill(this.spec.stopSignal ?? 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, limitMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    await this.exited;
  }
}

/** Remove a temp dir, ignoring what is already gone. */
export function removeDir(dir: string | undefined): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}
