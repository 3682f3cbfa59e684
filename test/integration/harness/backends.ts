/**
 * Our side of each front: through the real CLI (`tsgi app.js -C generated.cfg`) for the protocols the CLI
 * serves, else in this process through the adapters' start*Server APIs (startBackend picks). Every backend serves bin/app.ts (conformance app + probes) and logs into
 * memory, so a failing test can print what tsgi said.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InlineDispatcher } from '../../../gateway/core/dispatch.js';
import { FRONTS } from '../../../gateway/serve.js';
import { ErrorLog } from '../../../gateway/core/log.js';
import { startFastcgiServer } from '../../../adapters/fastcgi/index.js';
import { startHttpServer } from '../../../adapters/http/index.js';
import { startScgiServer } from '../../../adapters/scgi/index.js';
import { app } from '../bin/app.js';
import { Daemon, removeDir, tempDir } from './daemon.js';
import { freePort } from './ports.js';

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

/** The compiled CLI and the integration app module. */
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'gateway', 'cli.js');
const APP_MODULE = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'app.js');

/** True when the real CLI (`tsgi app.js -C file.cfg`) can serve `protocol` yet. */
export function cliServes(protocol: 'http' | 'fastcgi' | 'scgi'): boolean {
  return FRONTS[protocol] !== undefined;
}

/**
 * Our side started the way users start it: `node dist/gateway/cli.js dist/test/integration/bin/app.js
 * -C generated.cfg`, with `protocol`, a free loopback port and (optionally) scriptName in the config file;
 * `serverLines` are more `[server]` lines (a concurrency model: `threadPool = 2\n`).
 */
export async function startCliBackend(protocol: 'http' | 'fastcgi' | 'scgi' | 'auto', scriptName?: string, serverLines = ''): Promise<Backend> {
  const port = await freePort();
  const cfg = `[server]\nprotocol = ${protocol}\nsocketHost = 127.0.0.1\nsocketPort = ${port}\n${scriptName === undefined ? '' : `scriptName = ${scriptName}\n`}gracefulTimeout = 2\n${serverLines}`;
  return startCliDaemon(`tsgi ${protocol}${serverLines === '' ? '' : ' ' + serverLines.trim().replace(/\n/g, ', ')} (CLI)`, APP_MODULE, cfg, port);
}

/**
 * `node dist/gateway/cli.js APP -C tsgi.cfg` with `cfgText` written to a temporary folder, started once
 * something listens on `port`; close() stops it and removes the folder. Shared by the integration
 * backends and the conformance matrix.
 */
export async function startCliDaemon(name: string, appModule: string, cfgText: string, port: number): Promise<Backend> {
  const dir = tempDir('cli');
  const cfg = join(dir, 'tsgi.cfg');
  writeFileSync(cfg, cfgText);
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ name, command: process.execPath, args: [CLI, appModule, '-C', cfg], ports: [port] });
  } catch (err) {
    removeDir(dir);
    throw err;
  }
  return {
    port,
    log: () => daemon.diagnostics(),
    async close() {
      await daemon.stop();
      removeDir(dir);
    },
  };
}

/** The backend for `protocol`: through the CLI when it serves that protocol, else in this process. */
export function startBackend(protocol: 'http' | 'fastcgi' | 'scgi', scriptName?: string): Promise<Backend> {
  if (cliServes(protocol)) return startCliBackend(protocol, scriptName);
  if (protocol === 'http') return startHttpBackend(scriptName ?? '');
  return protocol === 'fastcgi' ? startFastcgiBackend({}, scriptName) : startScgiBackend({}, scriptName);
}
