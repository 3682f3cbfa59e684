/**
 * Starts an SCGI server around an app for a test, with the log kept in memory and the app wrapped in
 * lint() (lint violations fail the test that caused them).
 */
import type { App } from '../../app-api/types.js';
import { lint, type LintError } from '../../app-api/lint.js';
import { startScgiServer, type ScgiServer, type ScgiServerOptions } from '../../adapters/scgi/server.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../../gateway/core/log.js';

/** A running server plus what the test inspects. */
export interface ScgiHarness {
  server: ScgiServer;
  port: number;
  memory: MemoryLog;
  log: ErrorLog;
  violations: LintError[];
  /** Log lines that mention `code` (e.g. TSGI_ERR_PROTOCOL). */
  linesWith(code: string): string[];
}

/** Start an SCGI server on an ephemeral loopback port (or `opts.socketFile`) serving `app` through lint(). */
export async function startScgiHarness(app: App, opts: ScgiServerOptions = {}): Promise<ScgiHarness> {
  const memory = new MemoryLog();
  const log = new ErrorLog(memory);
  const violations: LintError[] = [];
  const linted = lint(app, { onViolation: (err) => violations.push(err) });
  const server = await startScgiServer(new InlineDispatcher(linted, { log }), { port: 0, ...opts, log });
  return {
    server,
    port: server.port,
    memory,
    log,
    violations,
    linesWith: (code) => memory.text.split('\n').filter((l) => l.includes(code)),
  };
}
