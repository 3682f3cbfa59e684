/**
 * The front's own syntax check (`nginx -t`, `apache2 -t`, `lighttpd -t`, `haproxy -c`) on a snippet, inside
 * a minimal main config written to a temp dir, so nothing under /etc is read or touched.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { FrontListen, FrontRenderer } from './types.js';

// Debian puts the servers in /usr/sbin, which is not on a normal user's PATH.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The absolute path of an executable, or undefined when it is not installed. */
export function findExecutable(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...EXTRA_DIRS]) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** What the syntax check said. */
export type SyntaxResult =
  | { status: 'missing'; binary: string }
  | { status: 'ok' | 'refused'; binary: string; command: string; output: string };

/** The files of a snippet inside its wrapper main config: the snippet, the main config, their dir. */
export interface WrappedSnippet {
  dir: string;
  snippetFile: string;
  mainFile: string;
}

/** Write the snippet and a wrapper main config into a new temp dir (the caller removes `dir`). */
export function writeWrapped(front: FrontRenderer, snippet: string, listen: FrontListen, dir = mkdtempSync(join(tmpdir(), `tsgi-check-${front.name}-`))): WrappedSnippet {
  const snippetFile = join(dir, `tsgi-${front.name}.conf`);
  const mainFile = join(dir, `main-${front.name}.conf`);
  writeFileSync(snippetFile, snippet);
  writeFileSync(mainFile, front.syntax.wrapper(dir, snippetFile, listen));
  return { dir, snippetFile, mainFile };
}

/**
 * Run the front's syntax check on `snippet` (bounded: 30 s). The front's messages name the snippet as
 * `name` instead of the temp file, which is gone when they are read.
 */
export async function checkSyntax(front: FrontRenderer, snippet: string, listen: FrontListen, name = 'the snippet'): Promise<SyntaxResult> {
  const binary = findExecutable(front.syntax.binary);
  if (binary === undefined) return { status: 'missing', binary: front.syntax.binary };
  const w = writeWrapped(front, snippet, listen);
  try {
    const args = front.syntax.args(w.mainFile, w.snippetFile, w.dir);
    const command = `${binary} ${args.join(' ')}`;
    return await new Promise((resolve) => {
      execFile(binary, args, { timeout: 30_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`.trim().split(w.snippetFile).join(name);
        resolve({ status: err === null ? 'ok' : 'refused', binary, command, output });
      });
    });
  } finally {
    rmSync(w.dir, { recursive: true, force: true });
  }
}
