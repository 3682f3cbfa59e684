/** Running `tsgi check` in tests: in-process (runCheck with captured streams) or as the real CLI child. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCheck } from '../../gateway/check/command.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The compiled CLI. */
export const CLI = path.join(ROOT, 'dist/gateway/cli.js');

/** What a run printed and its exit status. */
export interface CheckRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written. */
function sink(): NodeJS.WritableStream & { text: string } {
  const s = { text: '', write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WritableStream & { text: string };
}

/** runCheck in this process. */
export async function check(argv: string[]): Promise<CheckRun> {
  const out = sink();
  const err = sink();
  const code = await runCheck(argv, out, err);
  return { code, stdout: out.text, stderr: err.text };
}

/**
 * `node dist/gateway/cli.js check ...` as a child (bounded: killed after 90 s). stdin is /dev/null: a
 * FastCGI listener takes a socket on fd 0 for the one its web server passed (mod_fcgid), and a pipe from
 * Node is a socket.
 */
export function checkCli(argv: string[]): Promise<CheckRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'check', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** A temp dir with an INI file `name` holding `text`; returns the file's path. */
export function writeIni(text: string, name = 'server.cfg'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-check-ini-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
