/** Start a node script as a child process that prints one JSON line when ready; stop it by its pid. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A running child. */
export interface Child<T> {
  proc: ChildProcess;
  /** The JSON object the child printed when ready. */
  ready: T;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawn `node script args...` and wait (at most `timeoutMs`) for its first stdout line, parsed as JSON.
 * `node` is this process's binary unless `execPath` names another (benchmarks on another Node line).
 */
export function startChild<T>(script: string, args: string[] = [], timeoutMs = 20_000, nodeArgs: string[] = [], execPath = process.execPath): Promise<Child<T>> {
  const proc = spawn(execPath, [...nodeArgs, script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (graceMs = 5000): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      void stop(0);
      reject(new Error(`${script} did not print its ready line within ${timeoutMs} ms`));
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready`));
    });
    proc.stdout!.on('data', function onData(chunk: Buffer) {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      proc.stdout!.off('data', onData);
      proc.stdout!.resume();
      clearTimeout(timer);
      try {
        resolve({ proc, ready: JSON.parse(buf.slice(0, nl)) as T, stop });
      } catch (err) {
        void stop(0);
        reject(err);
      }
    });
  });
}

/** Resident set size of a process in bytes, from /proc/PID/status (Linux). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Samples a process's RSS every `everyMs` until stopped; keeps the peak. */
export class RssSampler {
  peak = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number, everyMs = 20) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  sample(): void {
    try {
      this.peak = Math.max(this.peak, rssOf(this.pid));
    } catch {
      /* the process is gone */
    }
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}
