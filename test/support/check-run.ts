/** Running `tsgi check` in tests: in-process (runCheck with captured streams) or as the real CLI child. */
import { execFile } from 'node:child_process';
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

/** `node dist/gateway/cli.js check ...` as a child (bounded: 90 s). */
export function checkCli(argv: string[]): Promise<CheckRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'check', ...argv], { timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      resolve({ code, stdout, stderr });
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
