/**
 * workerTimeout in single mode: the event loop cannot be preempted, but a request waiting on I/O that never
 * comes gets its 504 at the deadline instead of hanging the client, and the server keeps serving.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { loadConfig } from '../gateway/config/load.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { serve, type Running } from '../gateway/serve.js';
import { sendRequest } from './support/http-client.js';

const APP = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/timeout/app.js');

describe('single mode: workerTimeout', function () {
  this.timeout(30_000);
  let dir: string;
  let running: Running | undefined;
  const memory = new MemoryLog();

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-single-timeout-'));
  });
  after(async () => {
    await running?.close(500);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a request past the deadline gets 504 and is logged; the next request is served', async () => {
    const file = path.join(dir, 'server.cfg');
    writeFileSync(file, '[server]\nsocketPort = 0\nworkerTimeout = 0.3\n');
    running = await serve({ config: loadConfig(file), app: APP, log: new ErrorLog(memory) });
    expect(running.mode).to.equal('single');
    const port = Number(new URL(running.url).port);
    const hung = await sendRequest({ port }, { method: 'GET', path: '/hang' });
    expect(hung.status).to.equal(504);
    expect(memory.text).to.include('ran past the worker timeout');
    const next = await sendRequest({ port }, { method: 'GET', path: '/' });
    expect(next.status).to.equal(200);
    expect(next.body.toString()).to.equal('ok\n');
  });
});
