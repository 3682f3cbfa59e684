/**
 * The `pidFile` option: a file holding the server's pid for init scripts, logrotate and `kill $(cat ...)`.
 * It is claimed before the server listens, so a second server started by mistake on the same file stops
 * before it touches any socket; a file left by a server that died (SIGKILL, power loss) is replaced.
 */
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { configError } from '../config/resolve.js';
import type { Source } from '../config/source.js';

/** A claimed pid file: release() removes it, once, if it still holds this process's pid. */
export interface PidFileClaim {
  readonly file: string;
  /** What the claim found: `new`, or `stale` when it replaced a file naming a dead pid (or no pid). */
  readonly found: 'new' | 'stale';
  release(): void;
}

/** True when a process with this pid exists (EPERM: it exists but belongs to another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid written in the file, or undefined when there is no file or it holds no pid. */
function readPid(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^\s*(\d+)\s*$/.exec(text);
  return m === null ? undefined : Number(m[1]);
}

/**
 * Write this process's pid to `file`, refusing (TSGI_ERR_CONFIG, naming the file, the option and the fix)
 * when the file names another live process. `where` is where pidFile was set, for the message. The file is
 * also removed when the process exits without release() (process.exit after an error).
 */
export function claimPidFile(file: string, where: Source | string = 'pidFile'): PidFileClaim {
  const existed = existsSync(file);
  const holder = readPid(file);
  if (holder !== undefined && holder !== process.pid && alive(holder)) {
    throw configError(
      where,
      `pidFile ${file} holds pid ${holder}, which is running (another tsgi with the same pidFile?); stop that server first (kill ${holder}), or give this one another pidFile / --pid-file`,
    );
  }
  // Written beside it and renamed over it: a reader never sees a half-written pid.
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${process.pid}\n`);
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
    throw configError(where, `pidFile: cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the directory exists and is writable`);
  }
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    // Another server may have replaced a file this one lost track of: only remove our own pid.
    if (readPid(file) !== process.pid) return;
    try {
      unlinkSync(file);
    } catch {
      // already gone: nothing to clean
    }
  };
  process.on('exit', release);
  return { file, found: existed ? 'stale' : 'new', release };
}
