#!/usr/bin/env node
/**
 * The `tsgi` command: `tsgi MODULE[:EXPORT] [-C FILE.cfg] [--bind HOST:PORT | --socket PATH] [--<option> value ...]`,
 * and `tsgi check -C FILE.cfg --front NAME ...` (gateway/check/command.ts).
 *
 * Exit codes: 0 after a graceful stop, 2 for a config or command-line error (TSGI_ERR_CONFIG,
 * TSGI_ERR_NOT_YET), 1 when the app cannot be loaded or the server cannot start (port in use...).
 * An error prints one line: `tsgi: CODE: message`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isTsgiError } from '../app-api/errors.js';
import { parseArgs } from './config/argv.js';
import { helpText } from './config/help.js';
import { loadConfig } from './config/load.js';
import { isReloadChild, runWithReload } from './dev-reload.js';
import { notYetNote, serve } from './serve.js';
import { installSignalHandlers } from './signals.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}

/** Exit code for an error that stopped the start. */
function exitCodeFor(err: unknown): number {
  return isTsgiError(err, 'TSGI_ERR_CONFIG') || isTsgiError(err, 'TSGI_ERR_NOT_YET') ? 2 : 1;
}

/** One line for an error: the code, the message, and for a listen error what to change. */
function errorLine(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (isTsgiError(err)) return `${err.code}: ${err.message}`;
  if (e?.code === 'EADDRINUSE') return `EADDRINUSE: ${e.address ?? ''}${e.port !== undefined ? `:${e.port}` : ''} is already in use; stop the other server or choose another address with --bind / socketPort`;
  if (e?.code === 'EACCES') return `EACCES: not allowed to listen on ${e.address ?? ''}${e.port !== undefined ? `:${e.port}` : ''}; ports below 1024 need privileges, choose a higher socketPort`;
  if (e?.code === 'EADDRNOTAVAIL') return `EADDRNOTAVAIL: ${e.address ?? ''} is not an address of this machine; check socketHost`;
  return `${typeof e?.code === 'string' ? e.code : 'error'}: ${e?.message ?? String(err)}`;
}

async function main(argv: readonly string[]): Promise<void> {
  // `tsgi check ...`: the front-end config checker (gateway/check/), loaded only when asked for.
  if (argv[0] === 'check') {
    process.exitCode = await (await import('./check/command.js')).runCheck(argv.slice(1));
    return;
  }
  const args = parseArgs(argv);
  if (args.kind === 'help') {
    process.stdout.write(helpText(notYetNote));
    return;
  }
  if (args.kind === 'version') {
    process.stdout.write(`tsgi ${version()}\n`);
    return;
  }
  const config = loadConfig(args.configFile, { settings: args.settings });
  // The config is read first so that a bad one is reported once, by the supervisor, not by every child.
  if (config.server.reload && !isReloadChild()) await runWithReload({ cli: fileURLToPath(import.meta.url), argv });
  const running = await serve({ config, app: args.appSpec });
  // Before the start line: whatever reads it (a supervisor, a test) may send SIGTERM at once.
  installSignalHandlers({ stop: () => running.close(), reload: running.reload });
  // The first URL stays right after "on" (scripts read it); the other listeners follow with their sections.
  const others = running.listeners.slice(1).map((l) => `${l.section} ${l.url}`);
  process.stderr.write(`tsgi: serving ${args.appSpec} on ${running.url} (${running.mode}, pid ${process.pid}${running.found !== undefined ? `, ${running.found}` : ''})${others.length > 0 ? `; also on ${others.join(', ')}` : ''}\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`tsgi: ${errorLine(err)}\n`);
  // An exception inside the app module: its stack is what the user needs to fix it.
  const cause = (err as { cause?: unknown })?.cause;
  if (isTsgiError(err, 'TSGI_ERR_APP_LOAD') && cause instanceof Error && cause.stack !== undefined && !/^Error \[ERR_MODULE_NOT_FOUND\]/.test(cause.stack)) {
    process.stderr.write(cause.stack + '\n');
  }
  process.exit(exitCodeFor(err));
});
