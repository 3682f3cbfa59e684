/**
 * createAutoHandler: protocol=auto without a listener of its own, as a worker process runs it (it accepts
 * on an inherited socket, or is handed single connections). Connections are counted until they close, and
 * a FastCGI keep-conn connection the web server closes is closed here too (not left half-open until the
 * idle timeout: a forked child lives exactly as long as its connection).
 */
import net from 'node:net';
import { expect } from 'chai';
import { lint } from '../app-api/lint.js';
import { createAutoHandler, type AutoHandler } from '../adapters/auto/server.js';
import { app as echoEnviron } from '../examples/echo-environ/app.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { cgiParams, FcgiClient } from './support/fcgi-client.js';
import { nginxVars, scgiRequest } from './support/scgi-client.js';

async function until(what: string, check: () => boolean, maxMs = 5000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('createAutoHandler (protocol=auto without a listener)', function () {
  this.timeout(20_000);
  let handler: AutoHandler;
  let server: net.Server;
  let port: number;

  before(async () => {
    const log = new ErrorLog(new MemoryLog());
    // An idle timeout far beyond the test: only the peer's close may end the connection.
    handler = await createAutoHandler(new InlineDispatcher(lint(echoEnviron), { log }), { log, fastcgi: { idleTimeout: 600_000 }, scgi: { idleTimeout: 600_000 } });
    server = net.createServer({ allowHalfOpen: true }, (socket) => handler.handleConnection(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => {
    await handler.close(0);
    server.close();
  });

  it('closes a FastCGI keep-conn connection when the web server closes it, and counts it until then', async () => {
    const client = await FcgiClient.connect({ port });
    const r = await client.request({ params: cgiParams('GET', '/a'), keepConn: true });
    expect(r.status).to.equal(200);
    expect(handler.connections).to.equal(1);
    client.socket.end(); // the web server is done with the connection
    await until('the server side to close the connection', () => handler.connections === 0);
    await client.closed;
  });

  it('serves SCGI on the same handler', async () => {
    const res = await scgiRequest(port, { vars: nginxVars('GET', '/b') });
    expect(res.status).to.equal(200);
    await until('the SCGI connection to be closed', () => handler.connections === 0);
  });
});
