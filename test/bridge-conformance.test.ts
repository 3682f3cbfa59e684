/**
 * The conformance table through both bridge round trips, served by the built-in server:
 * `fromFetch(toFetch(app))` and `fromNode(toNode(app))`, at the root and under /app. Each request crosses the
 * bridge twice (tsgi -> fetch/Node -> tsgi), so whatever one direction loses (a repeated header, a Latin-1
 * byte, an empty or streamed body, the mount point) shows up as a failed row.
 */
import { fromFetch, fromNode } from '../app-api/bridge/index.js';
import { lint } from '../app-api/lint.js';
import type { App } from '../app-api/types.js';
import { toFetch } from '../adapters/fetch/to-fetch.js';
import { startHttpServer, type HttpServer } from '../adapters/http/server.js';
import { toNode } from '../adapters/node/to-node.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { conformanceApp } from './conformance/apps.js';
import { httpSend, runConformance } from './conformance/runner.js';

const log = new ErrorLog(new MemoryLog());

const roundTrips: Record<string, (app: App, mount: string) => App> = {
  'fromFetch(toFetch(app))': (app, mount) => fromFetch(toFetch(app, { scriptName: mount, log, remoteAddress: () => '127.0.0.1' }), { url: 'full' }),
  'fromNode(toNode(app))': (app) => fromNode(toNode(app, { log })),
};

for (const [name, wrap] of Object.entries(roundTrips)) {
  for (const mount of ['', '/app']) {
    describe(`bridge round trip ${name}, mount '${mount}'`, () => {
      let server: HttpServer;
      before(async () => {
        server = await startHttpServer(new InlineDispatcher(lint(wrap(conformanceApp, mount)), { log }), { port: 0, scriptName: mount, log });
      });
      after(() => server?.close(1000));
      runConformance('conformance table', {
        name,
        mount,
        send: httpSend(() => ({ port: server.port })),
        capabilities: { chunkedUpload: true },
      });
    });
  }
}
