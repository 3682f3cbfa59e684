/**
 * The error log a config asks for (`errorLog`: `-` for stderr, or a file opened for appending). In a module
 * of its own so that a worker process (processPool, forking) can open it without importing serve.ts and
 * everything serve.ts starts.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { TsgiError } from '../app-api/errors.js';
import type { ServerConfig } from './config/options.js';
import { ErrorLog } from './core/log.js';

/** The error log the config asks for: stderr, or a file opened for appending. */
export function openErrorLog(config: Pick<ServerConfig, 'errorLog'>): { log: ErrorLog; close(): void } {
  if (config.errorLog === '-') return { log: new ErrorLog(), close() {} };
  let fd: number;
  try {
    fd = openSync(config.errorLog, 'a');
  } catch (err) {
    throw new TsgiError('TSGI_ERR_CONFIG', `errorLog: cannot open ${config.errorLog} for appending (${(err as NodeJS.ErrnoException).code}); check the directory exists and is writable`);
  }
  // Synchronous writes: a line logged just before exit must not be lost.
  return { log: new ErrorLog({ write: (line: string) => writeSync(fd, line) }), close: () => closeSync(fd) };
}
