/**
 * The servers of the conformance matrix, each serving `conformanceApp` under MOUNT:
 *
 * - in this process, single mode, through the adapters' start*Server APIs (one per front kind);
 * - through the real CLI (`node dist/gateway/cli.js dist/test/conformance/apps.js -C generated.cfg`) for
 *   every other concurrency mode: ONE process per mode with one `protocol = auto` listener with
 *   `http2 = true`, so HTTP/1.1, h2c, FastCGI and SCGI all reach the same port, as users can run it.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAutoServer } from '../../adapters/auto/index.js';
import { startFastcgiServer } from '../../adapters/fastcgi/index.js';
import { startHttpServer } from '../../adapters/http/index.js';
import { startScgiServer } from '../../adapters/scgi/index.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { Daemon, removeDir, tempDir } from '../integration/harness/daemon.js';
import { freePort } from '../integration/harness/ports.js';
import { startCliDaemon, TailLog } from '../integration/harness/backends.js';
import { conformanceApp } from './apps.js';

/** Where every server of the matrix mounts the app (the root mount runs in http-conformance.test.ts). */
export const MOUNT = '/app';

/** A running server of the matrix. */
export interface MatrixServer {
  port: number;
  /** What tsgi logged (for a failing test). */
  log(): string;
  close(): Promise<void>;
}

/** The in-process fronts (single mode). */
export type InProcessKind = 'http' | 'http2' | 'fastcgi' | 'scgi' | 'auto';

/** One in-process server of `kind` on a free port, single mode (InlineDispatcher). */
export async function startInProcess(kind: InProcessKind): Promise<MatrixServer> {
  const tail = new TailLog();
  const d = new InlineDispatcher(conformanceApp, { log: tail.log });
  const common = { host: '127.0.0.1', port: 0, scriptName: MOUNT, log: tail.log };
  const srv =
    kind === 'http' || kind === 'http2'
      ? await startHttpServer(d, { ...common, http2: kind === 'http2' })
      : kind === 'fastcgi'
        ? await startFastcgiServer(d, common)
        : kind === 'scgi'
          ? await startScgiServer(d, common)
          : await startAutoServer(d, { ...common, http: { http2: true } });
  return { port: srv.port, log: () => tail.text(), close: () => srv.close(2_000) };
}

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(HERE, '..', '..', 'gateway', 'cli.js');
const APP_MODULE = join(HERE, 'apps.js');

/**
 * The CLI serving conformanceApp with `modeLines` (e.g. `processPool = 2`) on one auto listener
 * (HTTP/1.1, h2c, FastCGI, SCGI). Resolves once the port answers.
 */
export async function startCliServer(modeLines: string[]): Promise<MatrixServer> {
  const port = await freePort();
  const lines = ['[server]', 'protocol = auto', 'http2 = true', 'socketHost = 127.0.0.1', `socketPort = ${port}`, `scriptName = ${MOUNT}`, 'gracefulTimeout = 2', ...modeLines];
  return startCliDaemon(`tsgi auto (${modeLines.join(', ')})`, APP_MODULE, lines.join('\n') + '\n', port);
}
