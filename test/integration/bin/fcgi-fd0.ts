/**
 * FastCGI on an inherited listening socket (fd 0), the way mod_fcgid, lighttpd bin-path and spawn-fcgi
 * start a FastCGI application. Serves bin/app.ts until the web server sends SIGTERM.
 */
import { isInheritedListenSocket, startFastcgiServer } from '../../../adapters/fastcgi/index.js';
import { InlineDispatcher } from '../../../gateway/core/dispatch.js';
import { ErrorLog } from '../../../gateway/core/log.js';
import { app } from './app.js';

if (!isInheritedListenSocket(0)) {
  process.stderr.write('fcgi-fd0: fd 0 is not a listening socket; start me from mod_fcgid, lighttpd bin-path or spawn-fcgi\n');
  process.exit(2);
}
const log = new ErrorLog(process.stderr, 'tsgi-fcgi-fd0');
const server = await startFastcgiServer(new InlineDispatcher(app, { log, multiprocess: true }), { fd: 0, log });
const stop = (): void => {
  void server.close(2_000).then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// mod_fcgid asks a process to leave with SIGUSR1 (graceful) as well.
process.once('SIGUSR1', stop);
