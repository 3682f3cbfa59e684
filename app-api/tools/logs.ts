/**
 * `log.access_file`, `log.screen` and `log.error_file` as middleware: an access log in Apache's combined
 * format, and an error log that receives what the app writes to tsgi.errors and the stack of every error
 * the app raises. Files are LogFiles (log-file.ts): one write per line with O_APPEND, so processes and
 * threads sharing a file never interleave, and reopened on SIGUSR1 for logrotate.
 */
import type { App, Environ, ErrorStream } from '../types.js';
import { LogFile } from './log-file.js';
import { observe, type ResponseInfo } from './observe.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `[10/Oct/2000:13:55:36 +0000]`, Apache's %t. */
export function apacheTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const tz = `${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `[${p(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${tz}]`;
}

// Apache escapes " and \ and non-printables in logged request fields; a client must not be able to forge a line.
function esc(s: string): string {
  return s.replace(/[\\"\x00-\x1f\x7f-\uffff]/g, (c) => (c === '"' ? '\\"' : c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** One access-log line in the combined format: `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`. */
export function combinedLine(environ: Environ, info: Pick<ResponseInfo, 'status' | 'bytes'>, when = new Date()): string {
  const uri = (environ.REQUEST_URI as string | undefined) ?? `${environ.SCRIPT_NAME}${environ.PATH_INFO}${environ.QUERY_STRING !== '' ? `?${environ.QUERY_STRING}` : ''}`;
  const user = typeof environ.REMOTE_USER === 'string' && environ.REMOTE_USER !== '' ? esc(environ.REMOTE_USER) : '-';
  const status = info.status.split(' ')[0] || '500';
  return `${environ.REMOTE_ADDR ?? '-'} - ${user} ${apacheTime(when)} "${esc(`${environ.REQUEST_METHOD} ${uri} ${environ.SERVER_PROTOCOL}`)}" ${status} ${info.bytes > 0 ? info.bytes : '-'} "${esc(String(environ.HTTP_REFERER ?? '-'))}" "${esc(String(environ.HTTP_USER_AGENT ?? '-'))}"\n`;
}

/** Options of accessLog(). */
export interface AccessLogOptions {
  /** Append lines to this file. */
  file?: string;
  /** Also print them on stdout (CherryPy's log.screen). */
  screen?: boolean;
  /** Or hand each line to this function. */
  write?: (line: string) => void;
}

/** Wrap `app` with an access log (one combined-format line per response, written when it ends). */
export function accessLog(app: App, options: AccessLogOptions = {}): App {
  const file = options.file !== undefined ? new LogFile(options.file, 'log.access_file') : undefined;
  const targets = [
    ...(file !== undefined ? [(l: string) => file.write(l)] : []),
    ...(options.screen === true ? [(l: string) => void process.stdout.write(l)] : []),
    ...(options.write !== undefined ? [options.write] : []),
  ];
  if (targets.length === 0) return app;
  return (environ, startResponse) => {
    const t = new Date();
    return observe(app, environ, startResponse, {
      onEnd(info) {
        const line = combinedLine(environ, info.error !== undefined && info.status === '' ? { status: '500', bytes: 0 } : info, t);
        for (const w of targets) w(line);
      },
    });
  };
}

/** Options of errorLog(). */
export interface ErrorLogOptions {
  /** Append to this file. */
  file: string;
}

/**
 * Wrap `app` so that what it writes to tsgi.errors, and the stack of any error it raises, also go to
 * `file` (the server's own error log still gets them too).
 */
export function errorLog(app: App, options: ErrorLogOptions): App {
  const file = new LogFile(options.file, 'log.error_file');
  return async (environ, startResponse) => {
    const original = environ['tsgi.errors'];
    const tee: ErrorStream = {
      write(message) {
        file.write(message);
        original.write(message);
      },
      flush: () => original.flush(),
    };
    environ['tsgi.errors'] = tee;
    return observe(app, environ, startResponse, {
      onEnd(info) {
        if (info.error === undefined) return;
        const e = info.error;
        file.write(`[${new Date().toISOString()}] [error] [tsgi] ${environ.REQUEST_METHOD} ${environ.SCRIPT_NAME}${environ.PATH_INFO}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      },
    });
  };
}
