/**
 * The tools on the built-in server through serve(): single mode (the file body goes through the HTTP sink's
 * sendFile) and threadPool = 2 (the fixture module, which wraps itself in every tool, is loaded in each worker
 * thread; file bodies are streamed in chunks across the thread boundary).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { loadConfig } from '../../gateway/config/load.js';
import { ErrorLog, MemoryLog } from '../../gateway/core/log.js';
import { serve, type Running } from '../../gateway/serve.js';
import { sendRequest } from '../support/http-client.js';
import { toolCases } from './server-cases.js';

const FIXTURE_APP = fileURLToPath(new URL('../fixtures/tools/files-app.js', import.meta.url));

for (const [label, extra] of [['single', ''], ['threadPool = 2', 'threadPool = 2\n']] as const) {
  describe(`tools on the built-in server (${label})`, function () {
    this.timeout(60_000);
    let dir: string;
    let running: Running | undefined;
    let port = 0;

    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'tsgi-tools-serve-'));
      const cfg = path.join(dir, 'tsgi.cfg');
      writeFileSync(cfg, `[server]\nsocketHost = 127.0.0.1\nsocketPort = 0\n${extra}`);
      running = await serve({ config: loadConfig(cfg), app: `${FIXTURE_APP}:default`, log: new ErrorLog(new MemoryLog()) });
      port = Number(new URL(running.url).port);
    });
    after(async () => {
      await running?.close(1000);
      rmSync(dir, { recursive: true, force: true });
    });

    it(`the app runs ${label === 'single' ? 'on the main thread' : 'in worker threads'}`, async () => {
      const res = await sendRequest({ port }, { method: 'GET', path: '/thread' });
      expect(res.body.toString()).to.match(label === 'single' ? /^main / : /^worker \d+$/);
    });

    toolCases(() => ({ port, prefix: '' }));
  });
}
