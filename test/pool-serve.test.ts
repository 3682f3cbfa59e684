/**
 * `[server] threadPool = N` and `threading = 1` from an INI file, through serve() (what the CLI runs):
 * the config picks the thread models, workerTimeout and maxRequests reach them, reload() is offered.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../gateway/config/load.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { serve, type Running } from '../gateway/serve.js';
import { sendRequest } from './support/http-client.js';
import { FIXTURE_APP } from './fixtures/pool/client.js';

describe('threadPool and threading from the config file', function () {
  this.timeout(60_000);
  let dir: string;
  let running: Running | undefined;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-pool-serve-'));
  });
  afterEach(async () => {
    await running?.close(1000);
    running = undefined;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function start(ini: string): Promise<Running> {
    const file = path.join(dir, `server-${Math.random().toString(36).slice(2)}.cfg`);
    writeFileSync(file, `[server]\nsocketHost = 127.0.0.1\nsocketPort = 0\n${ini}\n`);
    running = await serve({ config: loadConfig(file), app: FIXTURE_APP, log: new ErrorLog(new MemoryLog()) });
    return running;
  }

  async function get(r: Running, p: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await sendRequest({ port: Number(new URL(r.url).port) }, { method: 'GET', path: p });
    return { status: res.status, body: res.status === 200 ? JSON.parse(res.body.toString()) : {} };
  }

  it('threadPool = 2 serves from 2 pool threads, workerTimeout gives 504, and reload is offered', async () => {
    const r = await start('threadPool = 2\nworkerTimeout = 0.3');
    expect(r.mode).to.equal('threadPool');
    const res = await get(r, '/');
    expect(res.status).to.equal(200);
    expect(res.body.multithread).to.equal(true);
    expect((await get(r, '/hang')).status).to.equal(504);
    expect((await get(r, '/')).status).to.equal(200);
    expect(r.reload).to.be.a('function');
    await r.reload!();
    expect((await get(r, '/')).status).to.equal(200);
  });

  it('threading = 1 serves every request on a new thread', async () => {
    const r = await start('threading = true');
    expect(r.mode).to.equal('threading');
    const ids = new Set<unknown>();
    for (let i = 0; i < 3; i++) ids.add((await get(r, '/')).body.threadId);
    expect(ids.size).to.equal(3);
  });
});
