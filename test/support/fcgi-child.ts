/**
 * A FastCGI server in its own process, for tests that need one: listening on an inherited socket on fd 0
 * (`node fcgi-child.js fd`, as mod_fcgid / lighttpd bin-path / spawn-fcgi start an app), or on an ephemeral
 * port (`node fcgi-child.js port`). Prints `ready <address>` on stdout once listening.
 *
 * Paths: `/rss` answers the process's memory ({rss, maxRss} in bytes); `/hold` waits for a `/go` request
 * before reading its body (a request the app is not reading), then answers like echo-environ; anything
 * else is examples/echo-environ.
 */
import { startFastcgiServer } from '../../adapters/fastcgi/server.js';
import type { App } from '../../app-api/types.js';
import { app as echo } from '../../examples/echo-environ/app.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog } from '../../gateway/core/log.js';

let go: () => void = () => {};
let gate = new Promise<void>((resolve) => (go = resolve));

const app: App = async (environ, startResponse) => {
  const path = environ.SCRIPT_NAME + environ.PATH_INFO;
  if (path === '/rss') {
    startResponse('200 OK', [['Content-Type', 'application/json']]);
    return [JSON.stringify({ rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024 })];
  }
  if (path === '/go') {
    go();
    gate = new Promise<void>((resolve) => (go = resolve));
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return ['released\n'];
  }
  if (path === '/hold') await gate;
  return echo(environ, startResponse);
};

const mode = process.argv[2] ?? 'port';
const server = await startFastcgiServer(new InlineDispatcher(app, { log: new ErrorLog() }), mode === 'fd' ? { fd: 0 } : { port: 0 });
process.stdout.write(`ready ${server.address}\n`);
process.on('SIGTERM', () => {
  server.close(2000).then(() => process.exit(0));
});
