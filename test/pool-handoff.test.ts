/**
 * The handoff of request batches to pool threads (gateway/threads/handoff.ts): the mailbox's encoding, the
 * port for what does not fit it, the doorbell for a thread back in its event loop, the futex wake for one
 * that waits, and a pool serving a synchronous app through all of them, with the app's timers still firing
 * while its thread serves requests back to back.
 */
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { RequestBatch } from '../gateway/threads/channel.js';
import { handoffCell, HandoffReceiver, HandoffSender } from '../gateway/threads/handoff.js';
import { startPool, type PoolServer } from './fixtures/pool/client.js';

const SYNC_APP = fileURLToPath(new URL('./fixtures/pool/sync-app.js', import.meta.url));
const HANDOFF = new URL('../gateway/threads/handoff.js', import.meta.url).href;

function pair(waitMs = 0): { sender: HandoffSender; receiver: HandoffReceiver; rings: () => number; close(): void } {
  const channel = new MessageChannel();
  const cell = handoffCell();
  let rings = 0;
  const sender = new HandoffSender(channel.port1, cell, () => rings++);
  const receiver = new HandoffReceiver(channel.port2, cell, waitMs);
  return { sender, receiver, rings: () => rings, close: () => channel.port1.close() };
}

describe('threadPool: the batch handoff', function () {
  this.timeout(60_000);

  describe('mailbox and port (one thread)', () => {
    it('a batch comes out as it went in: ids, body flags, variables with separators, non-latin1 and astral characters', () => {
      const p = pair();
      const batch: RequestBatch = {
        t: 'req',
        batch: [
          [1, 'REQUEST_METHOD\0GET\0PATH_INFO\0/a,b;c\0', true],
          [22, 'HTTP_X\0é 日本 😀 \uD83D\uDE00\0QUERY_STRING\0\0', false],
          [333, '', false],
          [2 ** 31 - 1, 'X\0' + 'y'.repeat(5000) + '\0', false],
        ],
      };
      p.sender.send(batch);
      expect(p.rings(), 'a thread in its event loop gets the doorbell').to.equal(1);
      expect(p.receiver.next()).to.deep.equal(batch);
      expect(p.receiver.next(), 'taken once').to.equal(undefined);
      p.close();
    });

    it('a batch the mailbox cannot carry goes by the port: variables as an object (a NUL in a value), front extras, a batch larger than the mailbox', () => {
      const p = pair();
      const withObject: RequestBatch = { t: 'req', batch: [[5, { PATH_INFO: '/a\0b', REQUEST_METHOD: 'GET' }, false]] };
      const withExtra: RequestBatch = { t: 'req', batch: [[6, 'A\0b\0', false, { 'tsgi.h2': true }]] };
      const huge: RequestBatch = { t: 'req', batch: Array.from({ length: 16 }, (_, i) => [i, 'V\0' + 'x'.repeat(4000) + '\0', false]) };
      for (const batch of [withObject, withExtra, huge]) {
        p.sender.send(batch);
        expect(p.receiver.next()).to.deep.equal(batch);
      }
      p.close();
    });

    it('a thread that is running (not waiting, not in its loop) gets no doorbell: it looks before it waits', () => {
      const p = pair();
      p.sender.send({ t: 'req', batch: [[1, 'A\0b\0', false]] });
      expect(p.receiver.next()).to.not.equal(undefined); // the cell says RUNNING now
      p.sender.send({ t: 'req', batch: [[2, 'A\0c\0', false]] });
      expect(p.rings()).to.equal(1);
      expect(p.receiver.next()?.batch[0][0]).to.equal(2);
      p.close();
    });
  });

  describe('across threads', () => {
    it('a thread asleep in its wait is woken by the main thread, with no doorbell; after waitMs without a batch it goes back to its loop and the doorbell brings the next', async () => {
      const channel = new MessageChannel();
      const cell = handoffCell();
      let rings = 0;
      const sender = new HandoffSender(channel.port1, cell, () => rings++);
      // The thread: takes batches with a 300 ms wait, reports each id (and "loop" when one next() gave up).
      const worker = new Worker(
        `const { parentPort, workerData } = require('node:worker_threads');
         import(workerData.handoff).then(({ HandoffReceiver }) => {
           const r = new HandoffReceiver(workerData.port, workerData.cell, 300);
           const serve = () => {
             for (;;) {
               const b = r.next();
               if (b === undefined) { parentPort.postMessage('loop'); return; }
               parentPort.postMessage(b.batch[0][0]);
             }
           };
           parentPort.on('message', serve); // the doorbell
           parentPort.postMessage('ready');
         });`,
        { eval: true, workerData: { handoff: HANDOFF, port: channel.port2, cell }, transferList: [channel.port2] },
      );
      const seen: unknown[] = [];
      const next = (): Promise<unknown> => new Promise((resolve) => worker.once('message', (m) => (seen.push(m), resolve(m))));
      try {
        expect(await next()).to.equal('ready');
        // In its loop: the first batch rings the doorbell.
        let got = next();
        sender.send({ t: 'req', batch: [[1, 'A\0a\0', false]] });
        worker.postMessage('wake');
        expect(rings).to.equal(1);
        expect(await got).to.equal(1);
        // Now it waits (up to 300 ms): a batch sent at once wakes it without the doorbell.
        got = next();
        sender.send({ t: 'req', batch: [[2, 'A\0b\0', false]] });
        expect(await got).to.equal(2);
        expect(rings, 'woken through the futex, not the doorbell').to.equal(1);
        // Nothing for 300 ms: it goes back to its loop, and the next batch needs the doorbell again.
        expect(await next()).to.equal('loop');
        got = next();
        sender.send({ t: 'req', batch: [[3, 'A\0c\0', false]] });
        expect(rings).to.equal(2);
        worker.postMessage('wake');
        expect(await got).to.equal(3);
      } finally {
        await worker.terminate();
        channel.port1.close();
      }
    });
  });

  describe('a pool serving a synchronous app', () => {
    let pool: PoolServer | undefined;
    afterEach(async () => {
      await pool?.close();
      pool = undefined;
    });

    it('back-to-back requests from 16 clients are all answered right, by both threads', async () => {
      pool = await startPool({ app: SYNC_APP, size: 2 });
      const p = pool;
      const answers: { threadId: number; query: string }[] = [];
      await Promise.all(
        Array.from({ length: 16 }, async (_, c) => {
          for (let i = 0; i < 40; i++) {
            const res = await p.json(`/echo?c=${c}&i=${i}`);
            expect(res.status).to.equal(200);
            expect(res.body.query).to.equal(`c=${c}&i=${i}`);
            answers.push(res.body as { threadId: number; query: string });
          }
        }),
      );
      expect(answers).to.have.length(640);
      expect(new Set(answers.map((a) => a.threadId)).size, 'both threads served').to.equal(2);
      expect(p.memory.lines.filter((l) => /lint|error/i.test(l)), 'no lint or error lines').to.deep.equal([]);
    });

    it('requests spaced wider than the wait (each thread back in its loop: the doorbell) are all answered', async () => {
      pool = await startPool({ app: SYNC_APP, size: 2 });
      for (let i = 0; i < 20; i++) {
        const res = await pool.json(`/echo?i=${i}`);
        expect(res.status).to.equal(200);
        expect(res.body.query).to.equal(`i=${i}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    });

    it('a line the app logged just before it hung its thread reaches the log (log lines are not held with the batch)', async () => {
      pool = await startPool({ app: SYNC_APP, size: 1, requestTimeoutMs: 300 });
      // Back-to-back requests first, so the hanging one is served inside the thread's batch loop.
      await Promise.all(Array.from({ length: 8 }, () => pool!.send({ path: '/' })));
      const res = await pool.send({ path: '/log-then-hang' });
      expect(res.status).to.equal(504);
      expect(pool.memory.text).to.match(/about to hang in thread \d+/);
      expect((await pool.json('/')).status, 'the replacement thread serves').to.equal(200);
    });

    it("the app's timers fire in a thread that serves synchronous requests back to back (it goes back to its event loop every few ms)", async () => {
      // A wait of 10 s: the thread never goes back to its loop for want of a batch, only to let it turn.
      pool = await startPool({ app: SYNC_APP, size: 1, handoffWaitMs: 10_000 });
      const p = pool;
      const before = (await p.json('/ticks')).body.ticks as number;
      let stop = false;
      const load = Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let i = 0; i < 2000 && !stop; i++) await p.send({ path: '/' });
        }),
      );
      // While the load runs (the one thread always has a batch waiting), its 1 ms interval keeps firing.
      let during = before;
      for (let i = 0; i < 100 && during < before + 5; i++) {
        await new Promise((r) => setTimeout(r, 20));
        during = (await p.json('/ticks')).body.ticks as number;
      }
      stop = true;
      await load;
      expect(during, 'ticks of the app timer during the load').to.be.at.least(before + 5);
      // And a stop reaches the thread in its 10 s wait at once (the interrupt), not after the wait.
      const closing = Date.now();
      await pool.close();
      pool = undefined;
      expect(Date.now() - closing, 'ms to close').to.be.below(4000);
    });
  });
});
