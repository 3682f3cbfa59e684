/**
 * The thread dispatcher's scheduler (gateway/threads/scheduler.ts), alone, with plain objects for threads
 * and requests and a real BatchClaim over shared memory: fair-share batches, bodies alone, clients gone
 * while queued, take-back from a batch (what the thread took stays with it), stalled batches, and the
 * waiting count and oldest-wait that admission reads.
 */
import { expect } from 'chai';
import { BatchClaim } from '../gateway/threads/batch-claim.js';
import { Scheduler, type SchedJob, type SchedSlot } from '../gateway/threads/scheduler.js';

interface TJob extends SchedJob {
  name: string;
  finished: boolean;
  startedAt: number;
  sink: { closed: boolean };
}
interface TSlot extends SchedSlot<TJob> {
  name: string;
}

function job(name: string, opts: { body?: boolean; closed?: boolean; at?: number } = {}): TJob {
  const j: TJob = {
    name,
    head: { body: opts.body === true ? {} : null },
    sink: { closed: opts.closed === true },
    enqueuedAt: opts.at ?? 0,
    startedAt: 0,
    slot: null,
    finished: false,
    finish() {
      j.finished = true;
    },
  };
  return j;
}

function slot(name: string, limit = 0): TSlot {
  return { name, job: null, later: [], batchLength: 0, requests: 0, limit, claim: new BatchClaim(new SharedArrayBuffer(4)) };
}

/** A scheduler over `slots`, recording each batch handed out; the first job of a batch starts at `now`. */
function setup(slots: TSlot[], maxBatch = 16, threads = slots.length) {
  const handed: [string, string[]][] = [];
  const s = new Scheduler<TJob, TSlot>(maxBatch, () => threads, () => slots, 2);
  const assign = (sl: TSlot, batch: TJob[]): void => {
    handed.push([sl.name, batch.map((j) => j.name)]);
    sl.job = batch[0];
    batch[0].startedAt = 1000;
  };
  return { s, handed, assign };
}

describe('thread dispatcher scheduler', () => {
  it('hands a freed thread its fair share of the queue in one batch, capped by maxBatch', () => {
    const a = slot('a');
    const b = slot('b');
    const { s, handed, assign } = setup([a, b], 3);
    for (let i = 0; i < 8; i++) s.queue.push(job(`r${i}`));
    s.addIdle(a);
    s.run(assign, 1000);
    expect(handed).to.deep.equal([['a', ['r0', 'r1', 'r2']]]); // ceil(8 / 2) = 4, capped at 3
    expect(a.later.map((j) => j.name)).to.deep.equal(['r1', 'r2']);
    expect(s.waiting, 'queued plus unstarted in batches').to.equal(7);
    expect(s.counters.batches).to.equal(1);
    s.addIdle(b);
    s.run(assign, 1000);
    expect(handed[1]).to.deep.equal(['b', ['r3', 'r4', 'r5']]);
  });

  it('uses the most recently freed thread first', () => {
    const a = slot('a');
    const b = slot('b');
    const { s, handed, assign } = setup([a, b]);
    s.addIdle(a);
    s.addIdle(b);
    s.queue.push(job('r0'));
    s.run(assign, 1000);
    expect(handed).to.deep.equal([['b', ['r0']]]);
  });

  it('a request with a body goes alone: never behind another, never with one behind it', () => {
    const a = slot('a');
    const { s, handed, assign } = setup([a], 16, 1);
    s.queue.push(job('r0'), job('up', { body: true }), job('r2'));
    s.addIdle(a);
    s.run(assign, 1000);
    expect(handed[0]).to.deep.equal(['a', ['r0']]);
    const b = slot('b');
    const t = setup([b], 16, 1);
    t.s.queue.push(job('up', { body: true }), job('r1'));
    t.s.addIdle(b);
    t.s.run(t.assign, 1000);
    expect(t.handed[0]).to.deep.equal(['b', ['up']]);
  });

  it('drops requests whose client left while queued, finishing them without a thread', () => {
    const a = slot('a');
    const { s, handed, assign } = setup([a]);
    const gone = job('gone', { closed: true });
    s.queue.push(gone, job('r1'));
    s.addIdle(a);
    s.run(assign, 1000);
    expect(gone.finished).to.equal(true);
    expect(handed).to.deep.equal([['a', ['r1']]]);
  });

  it('respects what a thread has left of its request limit', () => {
    const a = slot('a', 5);
    a.requests = 3;
    const { s, handed, assign } = setup([a], 16, 1);
    for (let i = 0; i < 6; i++) s.queue.push(job(`r${i}`));
    s.addIdle(a);
    s.run(assign, 1000);
    expect(handed[0][1]).to.have.length(2);
    expect(a.requests).to.equal(5);
  });

  it('takes back only what the thread has not taken, to the front of the queue in order', () => {
    const a = slot('a');
    const { s, assign } = setup([a], 16, 1);
    for (let i = 0; i < 6; i++) s.queue.push(job(`r${i}`));
    s.addIdle(a);
    s.run(assign, 1000); // one thread: its fair share is the whole queue
    expect(a.batchLength).to.equal(6);
    s.queue.push(job('newest'));
    // The thread takes r1 (as worker-main does through the claim), then the main thread takes back.
    expect(a.claim.take(1, a.batchLength)).to.equal(true);
    expect(s.advance(a)?.name).to.equal('r1');
    const back = s.takeBack(a);
    expect(back).to.equal(4);
    expect(s.queue.map((j) => j.name)).to.deep.equal(['r2', 'r3', 'r4', 'r5', 'newest']);
    expect(a.later).to.deep.equal([]);
    expect(a.requests, 'the taken-back ones are not counted against the thread').to.equal(2);
    expect(a.claim.take(2, a.batchLength), 'the thread cannot take a request taken back').to.equal(false);
    expect(s.counters.takenBack).to.equal(4);
    expect(s.waiting).to.equal(5);
  });

  it('an idle thread with the queue empty takes back the largest unstarted batch', () => {
    const a = slot('a');
    const b = slot('b');
    const { s, handed, assign } = setup([a, b], 16, 1);
    for (let i = 0; i < 4; i++) s.queue.push(job(`r${i}`));
    s.addIdle(a);
    s.run(assign, 1000);
    expect(handed[0]).to.deep.equal(['a', ['r0', 'r1', 'r2', 'r3']]);
    s.addIdle(b);
    s.run(assign, 1000);
    expect(handed[1][0]).to.equal('b');
    expect(handed[1][1][0]).to.equal('r1');
    expect(a.later).to.deep.equal([]);
  });

  it('a batch stalled behind a request past stallMs goes back before newer requests; a fresh one stays', () => {
    const a = slot('a');
    const b = slot('b');
    const c = slot('c');
    const { s, handed, assign } = setup([a, b, c], 16, 1);
    s.queue.push(job('r0'), job('r1'));
    s.addIdle(a);
    s.run(assign, 1000); // a: r0 running (started at 1000), r1 waiting
    s.queue.push(job('n0'));
    s.addIdle(b);
    s.run(assign, 1001); // 1 ms: not stalled, b takes the newer request
    expect(handed[1]).to.deep.equal(['b', ['n0']]);
    expect(a.later.map((j) => j.name)).to.deep.equal(['r1']);
    s.queue.push(job('n1'));
    s.addIdle(c);
    s.run(assign, 1003); // 3 ms > 2 ms: r1 goes back to the front and c takes it before n1
    expect(handed[2][1][0]).to.equal('r1');
  });

  it('release: the unstarted rest goes back to the queue, what the thread took is returned to be ended', () => {
    const a = slot('a');
    const { s, assign } = setup([a], 16, 1);
    for (let i = 0; i < 4; i++) s.queue.push(job(`r${i}`));
    s.addIdle(a);
    s.run(assign, 1000);
    expect(a.claim.take(1, 4)).to.equal(true); // the thread took r1 but has not reported it
    const taken = s.release(a);
    expect(taken.map((j) => j.name)).to.deep.equal(['r1']);
    expect(s.queue.map((j) => j.name)).to.deep.equal(['r2', 'r3']);
    expect(s.batched).to.equal(0);
    expect(s.waiting).to.equal(2);
  });

  it('oldestEnqueuedAt sees requests waiting in batches as well as in the queue', () => {
    const a = slot('a');
    const { s, assign } = setup([a], 16, 1);
    s.queue.push(job('r0', { at: 10 }), job('r1', { at: 20 }));
    s.addIdle(a);
    s.run(assign, 1000);
    s.queue.push(job('r2', { at: 30 }));
    expect(s.oldestEnqueuedAt(99)).to.equal(20);
    expect(new Scheduler<TJob, TSlot>(4, () => 1, () => [], 2).oldestEnqueuedAt(99), 'nothing waits').to.equal(99);
  });
});
