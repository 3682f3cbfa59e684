/**
 * The tsgi command in a child process with a generated config: for tests that must run a concurrency mode
 * as a user does (threadPool, threading, forking, processPool), with the port read from its start line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../gateway/cli.js', import.meta.url));
const START_LINE = /serving .* on [a-z]+:\/\/[^:]+:(\d+)/;

/** The concurrency modes as `[server]` lines, by the name tests print. */
export const MODE_LINES: Record<string, string[]> = {
  single: [],
  threading: ['threading = true'],
  threadPool: ['threadPool = 2'],
  forking: ['forking = true'],
  processPool: ['processPool = 2'],
};

/** A running tsgi command. */
export class CliServer {
  stderr = '';
  /** The port of `[server]`. */
  port = 0;
  /** The ports of the `[server:NAME]` listeners, by NAME. */
  readonly ports: Record<string, number> = {};
  private constructor(readonly proc: ChildProcess, readonly dir: string) {
    proc.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
  }

  /**
   * Start `app` (a compiled module path) with these config lines after `[server]` (socketPort = 0 and
   * socketHost = 127.0.0.1 come first; `[server:NAME]` sections may follow); waits for the start line.
   */
  static async start(app: string, serverLines: string[], timeoutMs = 60_000): Promise<CliServer> {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-cli-'));
    const cfg = path.join(dir, 'server.cfg');
    writeFileSync(cfg, ['[server]', 'socketPort = 0', 'socketHost = 127.0.0.1', ...serverLines].join('\n') + '\n');
    const s = new CliServer(spawn(process.execPath, [CLI, app, '-C', cfg], { stdio: ['ignore', 'ignore', 'pipe'] }), dir);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`tsgi did not start within ${timeoutMs} ms: ${s.stderr}`)), timeoutMs);
        const onData = (): void => {
          const m = START_LINE.exec(s.stderr);
          if (m === null) return;
          s.proc.stderr!.off('data', onData);
          clearTimeout(timer);
          s.port = Number(m[1]);
          for (const o of s.stderr.matchAll(/\[server:([\w-]+)\] [a-z]+:\/\/[^:]+:(\d+)/g)) s.ports[o[1]] = Number(o[2]);
          resolve();
        };
        s.proc.stderr!.on('data', onData);
        s.proc.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`tsgi exited with ${code} before listening: ${s.stderr}`));
        });
      });
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  /** SIGTERM (SIGKILL after 10 s), then remove the config directory. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      const kill = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
