/**
 * workerTimeout under the thread modes and forking, through the tsgi command (processPool is
 * test/process-pool.test.ts, single test/serve-single-timeout.test.ts): a request that runs past it is
 * answered 504 and its worker is replaced, and the server goes on serving.
 *
 * - threading and threadPool=2: a request that awaits forever (/hang) and one that blocks its thread in a
 *   busy loop (/spin, 20 s) both get 504 after 1 s; the thread is terminated (the log says so) and the next
 *   request is served.
 * - forking: /hang gets 504 from the child's deadline, and the child asks to be replaced (the log says so);
 *   the next connection is served by another child.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CliServer, MODE_LINES } from './support/cli-server.js';
import { sendRequest } from './support/http-client.js';

const APP = fileURLToPath(new URL('./fixtures/overload/app.js', import.meta.url));

for (const mode of ['threading', 'threadPool', 'forking']) {
  describe(`workerTimeout = 1 under ${mode}: 504 and the worker replaced`, function () {
    this.timeout(120_000);
    let server: CliServer;
    before(async () => {
      server = await CliServer.start(APP, [...MODE_LINES[mode], 'workerTimeout = 1']);
    });
    after(async () => {
      await server?.stop();
    });

    const paths = mode === 'forking' ? ['/hang'] : ['/hang', '/spin?ms=20000'];
    for (const p of paths) {
      it(`GET ${p}: 504, the worker replaced, the next request served`, async () => {
        const res = await sendRequest({ port: server.port }, { method: 'GET', path: p }, 60_000);
        expect(res.status, res.body.toString()).to.equal(504);
        if (mode === 'forking') expect(server.stderr).to.match(/ran past the worker timeout \(1000 ms\): answered 504; this worker will be replaced/);
        else expect(server.stderr).to.match(new RegExp(`GET ${p.replace(/[?]/g, '\\?')} HTTP/1\\.1 ran past 1000 ms on thread \\d+: terminating the thread and starting a new one`));
        const next = await sendRequest({ port: server.port }, { method: 'GET', path: '/who' }, 60_000);
        expect(next.status).to.equal(200);
      });
    }
  });
}
