/** The conformance table against the built-in server (fastify + InlineDispatcher), at the root and under /app. */
import { startHttpServer, type HttpServer } from '../adapters/http/server.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { conformanceApp } from './conformance/apps.js';
import { httpSend, runConformance } from './conformance/runner.js';

for (const mount of ['', '/app']) {
  describe(`built-in HTTP server, mount '${mount}'`, () => {
    let server: HttpServer;
    const log = new ErrorLog(new MemoryLog());
    before(async () => {
      server = await startHttpServer(new InlineDispatcher(conformanceApp, { log }), { port: 0, scriptName: mount, log });
    });
    after(() => server?.close(1000));
    runConformance('conformance table', {
      name: 'built-in HTTP',
      mount,
      send: httpSend(() => ({ port: server.port })),
      capabilities: { chunkedUpload: true },
    });
  });
}
