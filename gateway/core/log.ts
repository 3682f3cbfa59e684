/**
 * The error log and `tsgi.errors`. One line per message, timestamped, to a writable (stderr by default), so
 * that what the gateway logs and what the app writes to tsgi.errors end up in the same place, as in Apache's
 * error_log.
 */
import type { ErrorStream } from '../../app-api/types.js';

/** Where log lines go. */
export interface LogTarget {
  write(line: string): unknown;
}

/** The gateway's error log. */
export class ErrorLog implements ErrorStream {
  /**
   * Whether `debug` lines are written (TSGI_DEBUG=1 in the environment turns them on): they are per request
   * (e.g. forged forwarded headers removed), too many for a production log.
   */
  debugEnabled = process.env.TSGI_DEBUG === '1';

  constructor(private readonly target: LogTarget = process.stderr, private readonly tag = 'tsgi') {}

  /** Write app text as is (tsgi.errors semantics: the app chooses its own line breaks). */
  write(message: string): void {
    this.target.write(message);
  }

  flush(): void {}

  /** A gateway log line at a level, with the error's stack when one is given. */
  log(level: 'error' | 'warn' | 'info' | 'debug', message: string, err?: unknown): void {
    if (level === 'debug' && !this.debugEnabled) return;
    let line = `[${new Date().toISOString()}] [${level}] [${this.tag}] ${message}`;
    if (err !== undefined) {
      const code = (err as { code?: unknown })?.code;
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      line += (typeof code === 'string' ? ` (${code})` : '') + '\n' + detail;
    }
    this.target.write(line + '\n');
  }
}

/** Collects log output in memory: for tests and inject(). */
export class MemoryLog implements LogTarget {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  get text(): string {
    return this.lines.join('');
  }
}
