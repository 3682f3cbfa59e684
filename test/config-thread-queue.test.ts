/**
 * threadQueueSize and threadQueueWait from the config file, through serve(): with every thread busy a
 * request waits in the queue; past the queue's size, or while the oldest waiter has waited past
 * threadQueueWait, the answer is a fast 503 with Retry-After, and the held requests still complete.
 * The pool's state is read from the status page (statusPath ?json), as an operator would; no timing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../gateway/config/load.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { serve, type Running } from '../gateway/serve.js';
import { FIXTURE_APP } from './fixtures/pool/client.js';
import { sendRequest, type RawResponse } from './support/http-client.js';

interface Snapshot {
  workers: { busy: number };
  queue: { length: number; oldestWaitMs: number };
}

describe('config: threadQueueSize and threadQueueWait through serve()', function () {
  this.timeout(60_000);
  let dir: string;
  let running: Running | undefined;
  let n = 0;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-thread-queue-'));
  });
  afterEach(async () => {
    await running?.close(1000);
    running = undefined;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function start(ini: string): Promise<{ r: Running; get(p: string): Promise<RawResponse>; until(what: string, ok: (s: Snapshot) => boolean): Promise<void> }> {
    const file = path.join(dir, `q${++n}.cfg`);
    writeFileSync(file, `[server]\nsocketPort = 0\nstatusPath = /server-status\n${ini}\n`);
    const r = await serve({ config: loadConfig(file), app: `${FIXTURE_APP}:default`, log: new ErrorLog(new MemoryLog()) });
    running = r;
    const port = Number(new URL(r.url).port);
    const get = (p: string): Promise<RawResponse> => sendRequest({ port }, { method: 'GET', path: p });
    // Bounded poll of the status page (answered on the main thread, not by the busy pool thread).
    const until = async (what: string, ok: (s: Snapshot) => boolean): Promise<void> => {
      for (let i = 0; i < 1000; i++) {
        const s = JSON.parse((await get('/server-status?json')).body.toString()) as Snapshot;
        if (ok(s)) return;
        await new Promise((res) => setTimeout(res, 10));
      }
      throw new Error(`the pool never reached: ${what}`);
    };
    return { r, get, until };
  }

  it('threadPool = 1, threadQueueSize = 1: the third concurrent slow request gets 503 with Retry-After; the first two complete', async () => {
    const { get, until } = await start('threadPool = 1\nthreadQueueSize = 1');
    const gate = path.join(dir, 'gate-size');
    const first = get(`/gate?file=${encodeURIComponent(gate)}`);
    await until('the first request on the thread', (s) => s.workers.busy === 1);
    const second = get(`/gate?file=${encodeURIComponent(gate)}`);
    await until('the second request queued', (s) => s.queue.length === 1);

    const third = await get('/');
    expect(third.status).to.equal(503);
    expect(third.headers['retry-after']).to.match(/^\d+$/);

    writeFileSync(gate, '');
    expect((await first).status).to.equal(200);
    expect((await second).status).to.equal(200);
    expect((await get('/')).status).to.equal(200);
  });

  it('threadQueueWait: while the oldest queued request has waited past it, a new request gets 503 though the queue has room', async () => {
    const { get, until } = await start('threadPool = 1\nthreadQueueSize = 16\nthreadQueueWait = 0.05');
    const gate = path.join(dir, 'gate-wait');
    const first = get(`/gate?file=${encodeURIComponent(gate)}`);
    await until('the first request on the thread', (s) => s.workers.busy === 1);
    const second = get(`/gate?file=${encodeURIComponent(gate)}`);
    await until('the second request queued for longer than threadQueueWait', (s) => s.queue.length === 1 && s.queue.oldestWaitMs > 50);

    const third = await get('/');
    expect(third.status).to.equal(503);
    expect(third.headers['retry-after']).to.match(/^\d+$/);

    writeFileSync(gate, '');
    expect((await first).status).to.equal(200);
    expect((await second).status).to.equal(200);
    // The queue drained: admission is open again.
    expect((await get('/')).status).to.equal(200);
  });

  it('the default queue (256) lets requests wait for a busy thread instead of answering 503', async () => {
    const { get, until } = await start('threadPool = 1');
    const gate = path.join(dir, 'gate-default');
    const held = [0, 1, 2].map(() => get(`/gate?file=${encodeURIComponent(gate)}`));
    await until('one running, two queued', (s) => s.workers.busy === 1 && s.queue.length === 2);
    writeFileSync(gate, '');
    expect((await Promise.all(held)).map((r) => r.status)).to.deep.equal([200, 200, 200]);
  });
});
