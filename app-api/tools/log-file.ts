/**
 * A log file written one line per write(2) on a descriptor opened with O_APPEND: the kernel appends each
 * write whole at the current end of the file, so lines from many threads and processes sharing the file
 * never interleave and none is lost (a line is one write; a regular file takes it whole). `reopen()` swaps
 * in a new descriptor for the same path, for logrotate: after `mv access.log access.log.1` the next line
 * goes to a new access.log.
 *
 * Every LogFile of every thread reopens on a message on the `tsgi:reopen-logs` broadcast channel; the server
 * posts it when the process gets SIGUSR1 (a signal reaches the main thread only).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';
import { tsgiError } from '../errors.js';

/** The channel every thread's log files listen on for "reopen now". */
export const REOPEN_CHANNEL = 'tsgi:reopen-logs';

const open = new Set<LogFile>();
let listener: BroadcastChannel | null = null;

function listen(): void {
  if (listener !== null) return;
  listener = new BroadcastChannel(REOPEN_CHANNEL);
  listener.onmessage = () => reopenLogFiles();
  // An idle log file must not keep a thread or the process alive.
  (listener as unknown as { unref(): void }).unref();
}

/** Reopen every log file of this thread. */
export function reopenLogFiles(): void {
  for (const f of open) f.reopen();
}

/** Ask every thread of this process to reopen its log files (what SIGUSR1 does). */
export function broadcastReopen(): void {
  reopenLogFiles();
  const ch = new BroadcastChannel(REOPEN_CHANNEL);
  ch.postMessage('reopen');
  ch.close();
}

/** An append-only log file, one write per line. */
export class LogFile {
  private fd: number;

  /** Opens `path` for appending; TSGI_ERR_CONFIG naming `what` (the option) when it cannot. */
  constructor(readonly path: string, private readonly what = path) {
    this.fd = this.openFd();
    open.add(this);
    listen();
  }

  private openFd(): number {
    try {
      return openSync(this.path, 'a');
    } catch (err) {
      throw tsgiError('TSGI_ERR_CONFIG', { where: this.what, problem: `cannot open ${this.path} for appending (${(err as NodeJS.ErrnoException).code})`, fix: 'check the directory exists and is writable' }, { cause: err });
    }
  }

  /** Append `text` (one or more whole lines) with one write. */
  write(text: string): void {
    if (this.fd < 0) return;
    writeSync(this.fd, Buffer.from(text));
  }

  /** Open the path again (after logrotate renamed it) and close the old descriptor. */
  reopen(): void {
    if (this.fd < 0) return;
    let fd: number;
    try {
      fd = this.openFd();
    } catch {
      return; // keep writing to the old file rather than lose lines
    }
    const old = this.fd;
    this.fd = fd;
    closeSync(old);
  }

  close(): void {
    if (this.fd < 0) return;
    open.delete(this);
    closeSync(this.fd);
    this.fd = -1;
  }
}
