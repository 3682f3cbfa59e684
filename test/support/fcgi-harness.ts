/**
 * Starts a FastCGI server around an app for a test: ephemeral loopback port (or the given socketFile / fd),
 * log kept in memory, the app wrapped in lint() (lint violations are collected for the test to check).
 */
import type { App } from '../../app-api/types.js';
import { lint, type LintError } from '../../app-api/lint.js';
import { startFastcgiServer, type FastcgiServer, type FastcgiServerOptions } from '../../adapters/fastcgi/server.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../../gateway/core/log.js';

/** A running server plus what the test inspects. */
export interface FcgiHarness {
  server: FastcgiServer;
  port: number;
  memory: MemoryLog;
  log: ErrorLog;
  violations: LintError[];
  /** Log lines that mention `text` (e.g. TSGI_ERR_PROTOCOL). */
  linesWith(text: string): string[];
}

/** Start a FastCGI server serving `app` through lint(). */
export async function startFcgiHarness(app: App, opts: FastcgiServerOptions = {}): Promise<FcgiHarness> {
  const memory = new MemoryLog();
  const log = new ErrorLog(memory);
  const violations: LintError[] = [];
  const linted = lint(app, { onViolation: (err) => violations.push(err) });
  const where = opts.socketFile !== undefined || opts.fd !== undefined ? {} : { port: 0 };
  const server = await startFastcgiServer(new InlineDispatcher(linted, { log }), { ...where, ...opts, log });
  return {
    server,
    port: server.port,
    memory,
    log,
    violations,
    linesWith: (text) => memory.text.split('\n').filter((l) => l.includes(text)),
  };
}
