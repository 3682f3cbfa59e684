/**
 * The tools behind real nginx over FastCGI (examples/deploy/nginx/fastcgi.conf, mounted at /app): the tools'
 * fixture app on tsgi's FastCGI server in this process, and the same cases as on the built-in server. Here
 * file bodies have no sendFile path: the FastCGI sink gets them in chunks read from the file.
 */
import { findBinary } from './harness/binaries.js';
import { TailLog, type Backend } from './harness/backends.js';
import { printLogsOnFailure } from './harness/fronts.js';
import { requireInstalled } from './harness/skip.js';
import { startWebServer, type WebServer } from './harness/web-server.js';
import { startFastcgiServer } from '../../adapters/fastcgi/index.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import toolsApp from '../fixtures/tools/files-app.js';
import { toolCases } from '../tools/server-cases.js';

describe('integration: nginx fastcgi_pass -> the tools', function () {
  this.timeout(60_000);
  let web: WebServer | undefined;
  let backend: Backend | undefined;

  before(async function () {
    const nginx = requireInstalled(this, 'nginx', findBinary('nginx'));
    const tail = new TailLog();
    const srv = await startFastcgiServer(new InlineDispatcher(toolsApp, { log: tail.log }), { host: '127.0.0.1', port: 0, log: tail.log });
    backend = { port: srv.port, log: () => tail.text(), close: () => srv.close(2_000) };
    web = await startWebServer('nginx', nginx, [
      { name: 'fastcgi', template: 'fastcgi.conf', vars: { NAME: 'tsgi_tools', UPSTREAM: `127.0.0.1:${backend.port}`, KEEP_CONN: 'on' } },
    ]);
  });

  after(async () => {
    await web?.stop();
    await backend?.close();
  });

  printLogsOnFailure(() => [
    { label: 'nginx', text: () => web?.diagnostics(6000) ?? '' },
    { label: 'tsgi fastcgi', text: () => backend?.log() ?? '' },
  ]);

  toolCases(() => ({ port: web!.ports.fastcgi, prefix: '/app' }));
});
