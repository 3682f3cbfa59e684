/**
 * The real CLI serving the tools fixture app with a generated INI file, on a free loopback port: what the
 * multi-process and web-server tests of the tools start.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Daemon } from '../integration/harness/daemon.js';
import { freePort } from '../integration/harness/ports.js';
import type { RawResponse } from './http-client.js';

const CLI = fileURLToPath(new URL('../../gateway/cli.js', import.meta.url));
const APP = `${fileURLToPath(new URL('../fixtures/tools/app.js', import.meta.url))}:default`;

/** A tsgi process and its port. */
export interface ToolsServer {
  port: number;
  daemon: Daemon;
  stop(): Promise<void>;
}

/** Start `tsgi fixtures/tools/app.js -C dir/NAME.cfg`; `ini` is everything after socketHost/socketPort. */
export async function startToolsCli(dir: string, name: string, ini: string): Promise<ToolsServer> {
  const port = await freePort();
  const cfg = path.join(dir, `${name}.cfg`);
  writeFileSync(cfg, `[server]\nsocketHost = 127.0.0.1\nsocketPort = ${port}\ngracefulTimeout = 2\n${ini}`);
  const daemon = await Daemon.start({ name: `tsgi ${name}`, command: process.execPath, args: [CLI, APP, '-C', cfg], ports: [port], cwd: dir });
  return { port, daemon, stop: () => daemon.stop() };
}

/** One access-log line in Apache's combined format. */
export const COMBINED = /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET \/[^"]* HTTP\/1\.1" \d{3} (\d+|-) "-" "[^"]*"$/;

/** The session cookie value a response sets. */
export function setCookieId(res: RawResponse): string | undefined {
  return /(?:^|\n)session_id=([^;]*)/.exec(res.headers['set-cookie'] ?? '')?.[1];
}
