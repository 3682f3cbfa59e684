/**
 * The error log a config asks for (`errorLog`: `-` for stderr, or a file opened for appending). In a module
 * of its own so that a worker process (processPool, forking) can open it without importing serve.ts and
 * everything serve.ts starts.
 */
import { LogFile } from '../app-api/tools/log-file.js';
import type { ServerConfig } from './config/options.js';
import { ErrorLog } from './core/log.js';

/** The error log the config asks for: stderr, or a file opened for appending. */
export function openErrorLog(config: Pick<ServerConfig, 'errorLog'>): { log: ErrorLog; close(): void } {
  if (config.errorLog === '-') return { log: new ErrorLog(), close() {} };
  // Synchronous writes, one per line (O_APPEND): a line logged just before exit is not lost, and lines of
  // several processes never interleave. Reopened on SIGUSR1 (log-file.ts) for logrotate.
  const file = new LogFile(config.errorLog, 'errorLog');
  return { log: new ErrorLog({ write: (line: string) => file.write(line) }), close: () => file.close() };
}
