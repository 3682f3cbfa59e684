/** Start built-in servers for tests and stop them all afterwards. */
import type { App } from '../../app-api/types.js';
import { startHttpServer, type HttpServer, type HttpServerOptions } from '../../adapters/http/server.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../../gateway/core/log.js';

/** Tracks the servers a test file starts; call `closeAll()` in afterEach/after. */
export class TestServers {
  private readonly running: HttpServer[] = [];
  /** Everything the servers logged (kept out of the test output; print it when debugging). */
  readonly logs = new MemoryLog();

  /** Start the built-in server on an ephemeral loopback port (unless opts say otherwise) with `app` inline. */
  async start(app: App, opts: HttpServerOptions = {}): Promise<HttpServer> {
    const log = new ErrorLog(this.logs);
    const server = await startHttpServer(new InlineDispatcher(app, { log }), { port: 0, log, ...opts });
    this.running.push(server);
    return server;
  }

  async closeAll(): Promise<void> {
    const all = this.running.splice(0);
    await Promise.all(all.map((s) => s.close(500)));
  }
}
