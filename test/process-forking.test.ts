/**
 * forking = 1, through the real `tsgi` command: every connection is served by a process of its own that
 * exits when the connection closes; the number of children is bounded (503 past it); SIGHUP serves new
 * code to the next connections; SIGTERM lets the request in flight finish and exits 0.
 */
import { expect } from 'chai';
import { alive, CliServer, keepAliveConnection, waitFor } from './fixtures/process/harness.js';

describe('forking = 1 (tsgi command)', function () {
  this.timeout(60_000);
  let server: CliServer;
  before(async () => {
    server = await CliServer.start({ forking: 1, gracefulTimeout: 20 });
  });
  after(() => server?.close());

  it('serves each connection from a fresh process that exits afterwards', async () => {
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await server.get();
      expect(a.multiprocess).to.equal(true);
      expect(a.pid).to.not.equal(server.pid);
      expect(seen).to.not.include(a.pid);
      seen.push(a.pid);
      await waitFor(`child ${a.pid} to exit after its connection closed`, () => !alive(a.pid));
    }
    for (const pid of seen) expect(server.eventsOf(pid)).to.deep.equal(['start -', 'graceful connectionClosed', 'stop connectionClosed', 'exit connectionClosed']);
  });

  it('serves every request of a keep-alive connection from that connection\'s process', async () => {
    const conn = await keepAliveConnection(server.port);
    try {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(JSON.parse(await conn.get('/')) as { pid: number });
      expect(new Set(answers.map((a) => a.pid)).size).to.equal(1);
      expect(alive(answers[0].pid)).to.equal(true, 'the child lives as long as its connection');
    } finally {
      conn.close();
    }
  });

  it('SIGHUP: the next connections run the new code', async () => {
    server.setVersion('v1');
    server.signal('SIGHUP');
    await waitFor('the old spare to be retired', () => server.events().some((e) => e.what === 'reload'));
    const answers = await Promise.all([server.get(), server.get()]);
    expect(answers.map((a) => a.version)).to.deep.equal(['v1', 'v1']);
  });

  it('SIGTERM during a slow request: the request completes and the server exits 0', async () => {
    const slow = server.get('/slow?ms=1500');
    await waitFor('the slow request to start', () => server.events().some((e) => e.what === 'request-begin'));
    const child = server.events().find((e) => e.what === 'request-begin')!.pid;
    server.signal('SIGTERM');
    expect((await slow).pid).to.equal(child);
    expect(await server.exited).to.deep.equal({ code: 0, signal: null });
    expect(server.eventsOf(child)).to.include.members(['graceful signal', 'stop signal', 'exit signal']);
    expect(alive(child)).to.equal(false);
  });
});

describe('forking with maxChildren = 1 (tsgi command)', function () {
  this.timeout(60_000);
  let server: CliServer;
  before(async () => {
    server = await CliServer.start({ forking: 1, maxChildren: 1, spareChildren: 1 });
  });
  after(() => server?.close());

  it('answers 503 with Retry-After past the limit, and serves again once the child is gone', async () => {
    const conn = await keepAliveConnection(server.port);
    const busy = JSON.parse(await conn.get('/')) as { pid: number };
    const res = await server.request('/');
    expect(res.status).to.equal(503);
    expect(res.headers['retry-after']).to.equal('1');
    conn.close();
    await waitFor('the busy child to exit', () => !alive(busy.pid));
    let answer;
    // The parent forks a new spare once the child is gone; until it is counted, connections may still get 503.
    for (let i = 0; i < 100 && answer === undefined; i++) {
      const r = await server.request('/');
      if (r.status === 200) answer = JSON.parse(r.body.toString()) as { pid: number };
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer?.pid).to.be.a('number').and.not.equal(busy.pid);
  });
});
