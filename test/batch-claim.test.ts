/**
 * The batch claim counter (gateway/threads/batch-claim.ts): a request of a batch is either taken by its pool
 * thread or taken back by the main thread, never both and never neither. Checked alone, then with a real
 * worker thread taking requests while the main thread takes back at a varying moment, for many rounds.
 */
import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { BatchClaim } from '../gateway/threads/batch-claim.js';

describe('BatchClaim', () => {
  it('counts the first request as taken, then lets the thread take the rest in order', () => {
    const c = new BatchClaim(new SharedArrayBuffer(4));
    c.reset();
    expect(c.take(2, 4), 'out of order').to.equal(false);
    expect(c.take(1, 4)).to.equal(true);
    expect(c.take(2, 4)).to.equal(true);
    expect(c.take(3, 4)).to.equal(true);
    expect(c.take(4, 4), 'past the end').to.equal(false);
    expect(c.takeBack(4), 'nothing left').to.equal(4);
  });

  it('after takeBack the thread takes nothing more, and takeBack says where the taken part ends', () => {
    const c = new BatchClaim(new SharedArrayBuffer(4));
    c.reset();
    expect(c.take(1, 5)).to.equal(true);
    expect(c.takeBack(5)).to.equal(2);
    expect(c.take(2, 5)).to.equal(false);
    expect(c.takeBack(5), 'a second takeBack finds nothing').to.equal(5);
    c.reset(); // the next batch
    expect(c.take(1, 3)).to.equal(true);
  });

  it('splits every batch exactly between a racing worker thread and the main thread (3,000 rounds)', async function () {
    this.timeout(60_000);
    const claimBuffer = new SharedArrayBuffer(4);
    const ctl = new Int32Array(new SharedArrayBuffer(16)); // [round, length, taken, ack]
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       import(workerData.url).then(({ BatchClaim }) => {
         const claim = new BatchClaim(workerData.claim);
         const ctl = new Int32Array(workerData.ctl);
         for (let round = 1; ; round++) {
           for (;;) {
             const posted = Atomics.load(ctl, 0);
             if (posted < 0) return;
             if (posted >= round) break;
             Atomics.wait(ctl, 0, posted, 1000);
           }
           const length = Atomics.load(ctl, 1);
           let i = 1;
           while (claim.take(i, length)) {
             for (let spin = (i * 7919) % 50; spin > 0; spin--);
             i++;
           }
           Atomics.store(ctl, 2, i);
           Atomics.store(ctl, 3, round);
           Atomics.notify(ctl, 3);
         }
       });`,
      { eval: true, workerData: { url: new URL('../gateway/threads/batch-claim.js', import.meta.url).href, claim: claimBuffer, ctl: ctl.buffer } },
    );
    const main = new BatchClaim(claimBuffer);
    const splits = new Set<string>();
    try {
      for (let round = 1; round <= 3000; round++) {
        const length = 2 + (round % 15);
        main.reset();
        Atomics.store(ctl, 1, length);
        Atomics.store(ctl, 0, round);
        Atomics.notify(ctl, 0);
        for (let spin = (round * 104729) % 3000; spin > 0; spin--);
        const from = main.takeBack(length);
        let tries = 0;
        while (Atomics.load(ctl, 3) < round && tries++ < 100) Atomics.wait(ctl, 3, round - 1, 100); // bounded: 10 s
        expect(Atomics.load(ctl, 3), `round ${round}: the worker answered`).to.equal(round);
        const taken = Atomics.load(ctl, 2);
        expect(taken, `round ${round}: worker took [0, ${taken}), main took back [${from}, ${length})`).to.equal(from);
        splits.add(from === length ? 'all' : from === 1 ? 'none' : 'some');
      }
    } finally {
      Atomics.store(ctl, 0, -1);
      Atomics.notify(ctl, 0);
      await worker.terminate();
    }
    // The race went more than one way (otherwise this test checked nothing concurrent).
    expect(splits.size, [...splits].join(',')).to.be.greaterThan(1);
  });
});
