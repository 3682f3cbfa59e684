/**
 * Queue-wait admission (`threadQueueWait`) in the event-loop modes, single and processPool = 1, through the
 * tsgi command (HTTP/1.1): a request that has waited longer than the limit is answered 503 with Retry-After
 * (TSGI_ERR_OVERLOAD) instead of being served late; the server then serves again. The queue there is the
 * event loop: a request sent while a synchronous request blocks the loop for 2 s waits unseen in the
 * kernel; it is read after the block, when the loop is known to have run 2 s late, and answered 503. (The
 * thread modes' queue-wait admission is test/config-thread-queue.test.ts and test/pool-failures.test.ts.)
 *
 * Order without timing: the blocking request creates a "started" file before it blocks, and the waiting
 * request is sent only once the file exists.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CliServer, MODE_LINES } from './support/cli-server.js';
import { sendRequest } from './support/http-client.js';

const APP = fileURLToPath(new URL('./fixtures/overload/app.js', import.meta.url));

async function waitFor(file: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (existsSync(file)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${file} did not appear within 30 s`);
}

const MODES: Record<string, string[]> = { single: MODE_LINES.single, processPool: ['processPool = 1'] };

for (const [mode, lines] of Object.entries(MODES)) {
  describe(`overload: threadQueueWait = 0.5 answers a request that waited 503 instead of late (${mode})`, function () {
    this.timeout(120_000);
    let server: CliServer;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'tsgi-qwait-'));
      server = await CliServer.start(APP, [...lines, 'threadQueueWait = 0.5']);
    });
    after(async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a request behind a 2 s block gets 503 with Retry-After; the blocking one completes; then requests are served', async () => {
      const started = path.join(dir, 'started');
      const spin = (): ReturnType<typeof sendRequest> => sendRequest({ port: server.port }, { method: 'GET', path: `/spin?ms=2000&started=${encodeURIComponent(started)}` }, 60_000);
      let blocking = spin();
      // On a loaded machine the loop can run late on its own (right after start-up, or starved of CPU): the
      // blocking request itself may be shed then; it is sent again (bounded) until it runs.
      for (let i = 0; i < 20; i++) {
        const first = await Promise.race([waitFor(started).then(() => 'started'), blocking.then((r) => String(r.status))]);
        if (first === 'started') break;
        expect(first, 'the blocking request was answered without running').to.equal('503');
        await new Promise((r) => setTimeout(r, 200));
        blocking = spin();
      }
      await waitFor(started);
      const waited = await sendRequest({ port: server.port }, { method: 'GET', path: '/who' }, 60_000);
      expect(waited.status, waited.body.toString()).to.equal(503);
      expect(waited.headers['retry-after']).to.equal('1');
      expect(waited.body.toString()).to.match(/threadQueueWait/);
      expect((await blocking).status).to.equal(200);
      let status = 0;
      // Bounded: the loop ticks on time again within a quarter of the limit after the block.
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = (await sendRequest({ port: server.port }, { method: 'GET', path: '/who' }, 60_000)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).to.equal(200);
      expect(server.stderr).to.match(/TSGI_ERR_OVERLOAD/);
    });
  });
}
