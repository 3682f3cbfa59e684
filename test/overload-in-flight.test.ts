/**
 * Overload under the event-loop modes, through the tsgi command: with `maxInFlight = N`, a process that
 * already runs N requests answers the next one 503 with Retry-After at once (TSGI_ERR_OVERLOAD, logged),
 * instead of letting it wait in an event loop that is behind; once a request ends, the next is served.
 * processPool = 1 (a worker process; until now it relied on the kernel backlog) and single mode. (forking's
 * 503 past maxChildren is test/process-forking.test.ts; the thread modes' past threadQueueSize and
 * threadQueueWait are test/pool-failures.test.ts.)
 *
 * The requests held in flight are the fixture's /gone: each waits until its client leaves and creates a
 * "started" file first, so the test knows both are in flight without any timing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
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

for (const mode of ['processPool', 'single']) {
  describe(`overload: maxInFlight = 2 answers the third request 503 at once (${mode})`, function () {
    this.timeout(120_000);
    let server: CliServer;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'tsgi-inflight-'));
      const lines = mode === 'processPool' ? ['processPool = 1'] : MODE_LINES[mode];
      server = await CliServer.start(APP, [...lines, 'maxInFlight = 2']);
    });
    after(async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('two requests in flight, the third gets 503 with Retry-After; after they end, a request is served', async () => {
      const held: net.Socket[] = [];
      try {
        for (let i = 0; i < 2; i++) {
          const started = path.join(dir, `started-${i}`);
          const mark = path.join(dir, `mark-${i}`);
          const s = net.connect(server.port, '127.0.0.1');
          s.on('error', () => {});
          s.write(`GET /gone?started=${encodeURIComponent(started)}&mark=${encodeURIComponent(mark)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
          held.push(s);
          await waitFor(started);
        }
        const shed = await sendRequest({ port: server.port }, { method: 'GET', path: '/who' });
        expect(shed.status, shed.body.toString()).to.equal(503);
        expect(shed.headers['retry-after']).to.equal('1');
        expect(shed.body.toString()).to.match(/maxInFlight/);
        // The requests in flight end when their clients leave (the app sees tsgi.client_gone and answers).
        for (const s of held) s.destroy();
        await waitFor(path.join(dir, 'mark-0'));
        await waitFor(path.join(dir, 'mark-1'));
        let status = 0;
        // Bounded: the in-flight count drops once each response is handed to the (closed) socket.
        for (let i = 0; i < 100 && status !== 200; i++) {
          status = (await sendRequest({ port: server.port }, { method: 'GET', path: '/who' })).status;
          if (status !== 200) await new Promise((r) => setTimeout(r, 100));
        }
        expect(status).to.equal(200);
        expect(server.stderr).to.match(/TSGI_ERR_OVERLOAD: 2 request\(s\) in flight \(maxInFlight\)/);
      } finally {
        for (const s of held) s.destroy();
      }
    });
  });
}
