/**
 * Our side of each front, started in this process through the adapters' start*Server APIs (the CLI is
 * used where a suite says so). Every backend serves bin/app.ts (conformance app + probes) and logs into
 * memory, so a failing test can print what tsgi said.
 */
import { InlineDispatcher } from '../../../gateway/dispatch.js';
import { ErrorLog } from '../../../gateway/log.js';
import { startFastcgiServer } from '../../../adapters/fastcgi/index.js';
import { startHttpServer } from '../../../adapters/http/index.js';
import { startScgiServer } from '../../../adapters/scgi/index.js';
import { app } from '../bin/app.js';

/** A running backend. */
export interface Backend {
  /** 127.0.0.1 port, or 0 for a unix socket. */
  port: number;
  /** What tsgi logged. */
  log(): string;
  close(): Promise<void>;
}

/** A log that keeps the last lines in memory. */
export class TailLog {
  private lines: string[] = [];
  readonly log = new ErrorLog({ write: (line: string) => this.push(line) }, 'tsgi-it');
  private push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 200) this.lines.shift();
  }
  text(): string {
    return this.lines.join('');
  }
}

function dispatcherFor(tail: TailLog): InlineDispatcher {
  return new InlineDispatcher(app, { log: tail.log });
}

/** The built-in HTTP server on a free port, mounted at `scriptName`. */
export async function startHttpBackend(scriptName = '/app'): Promise<Backend> {
  const tail = new TailLog();
  const srv = await startHttpServer(dispatcherFor(tail), { host: '127.0.0.1', port: 0, scriptName, log: tail.log });
  return { port: srv.port, log: () => tail.text(), close: () => srv.close(2_000) };
}

/** Where a gateway-protocol backend listens: a free TCP port, or a unix socket path. */
export type ListenAt = { socketFile: string } | { port?: 0 };

/**
 * tsgi's FastCGI server. `scriptName` unset: SCRIPT_NAME/PATH_INFO are whatever the web server's config
 * sends (what the deploy templates must get right on their own).
 */
export async function startFastcgiBackend(at: ListenAt = {}, scriptName?: string): Promise<Backend> {
  const tail = new TailLog();
  const where = 'socketFile' in at ? { socketFile: at.socketFile } : { host: '127.0.0.1', port: 0 };
  const srv = await startFastcgiServer(dispatcherFor(tail), { ...where, scriptName, log: tail.log });
  return { port: srv.port, log: () => tail.text(), close: () => srv.close(2_000) };
}

/** tsgi's SCGI server (see startFastcgiBackend for `scriptName`). */
export async function startScgiBackend(at: ListenAt = {}, scriptName?: string): Promise<Backend> {
  const tail = new TailLog();
  const where = 'socketFile' in at ? { socketFile: at.socketFile } : { host: '127.0.0.1', port: 0 };
  const srv = await startScgiServer(dispatcherFor(tail), { ...where, scriptName, log: tail.log });
  return { port: srv.port, log: () => tail.text(), close: () => srv.close(2_000) };
}
