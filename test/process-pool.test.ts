/**
 * processPool, through the real `tsgi` command: workers share one socket, dead or stuck workers are
 * replaced, SIGTERM drains, SIGHUP reloads the code under load and maxRequests recycles, all without a
 * failed request. Tests in one describe share a server and run in order.
 */
import { expect } from 'chai';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { alive, CliServer, loadLoop, waitFor } from './fixtures/process/harness.js';

describe('processPool = 2 (tsgi command)', function () {
  this.timeout(60_000);
  let server: CliServer;
  before(async () => {
    server = await CliServer.start({ processPool: 2, gracefulTimeout: 20 });
  });
  after(() => server?.close());

  it('serves from 2 worker processes with tsgi.multiprocess = true', async () => {
    const pids = new Set<number>();
    // Each request keeps its worker busy, so concurrent requests must be taken by the other one.
    for (let round = 0; round < 5 && pids.size < 2; round++) {
      const answers = await Promise.all(Array.from({ length: 4 }, () => server.get('/hold?ms=150')));
      for (const a of answers) {
        expect(a.multiprocess).to.equal(true);
        pids.add(a.pid);
      }
    }
    expect(pids.size).to.equal(2);
    expect(pids.has(server.pid)).to.equal(false, 'the primary serves no requests');
    expect(server.stderr).to.match(/\(processPool, pid \d+\)/);
    // setup() in each worker was told other processes serve the same app.
    expect(readFileSync(server.eventLog, 'utf8')).to.match(/^\d+ start - multiprocess=true$/m);
  });

  it('SIGTERM during a slow request: the request completes and the server exits 0', async () => {
    const slow = server.get('/slow?ms=1500');
    await waitFor('the slow request to start', () => server.events().some((e) => e.what === 'request-begin'));
    server.signal('SIGTERM');
    expect((await slow).version).to.equal('v0');
    expect(await server.exited).to.deep.equal({ code: 0, signal: null });
    const workers = new Set(server.events().map((e) => e.pid));
    expect(workers.size).to.equal(2);
    for (const pid of workers) {
      const events = server.eventsOf(pid).filter((e) => !e.startsWith('request-begin'));
      expect(events).to.deep.equal(['start -', 'graceful signal', 'stop signal', 'exit signal'], `events of ${pid}`);
      expect(alive(pid)).to.equal(false);
    }
  });
});

describe('processPool = 1, workerTimeout = 1 (tsgi command)', function () {
  this.timeout(60_000);
  let server: CliServer;
  before(async () => {
    // The old option name, on purpose.
    server = await CliServer.start({ fixedNumberOfProcesses: 1, workerTimeout: 1, gracefulTimeout: 1 });
  });
  after(() => server?.close());

  it('replaces a killed worker; the next request is 2xx (it waits in the backlog meanwhile)', async () => {
    const before = (await server.get()).pid;
    expect(before).to.not.equal(server.pid);
    process.kill(before, 'SIGKILL');
    await waitFor('the worker to die', () => !alive(before));
    // No worker at this moment: the primary still holds the socket, so this connection waits, it is not refused.
    const after = await server.get();
    expect(after.pid).to.not.equal(before);
    expect(server.stderr).to.match(new RegExp(`worker ${before} exited \\(SIGKILL\\); starting a replacement`));
  });

  it('a request stuck in async code gets 504; its worker is replaced; the next request is 2xx', async () => {
    const before = (await server.get()).pid;
    const res = await server.request('/hang');
    expect(res.status).to.equal(504);
    await waitFor('the old worker to be replaced', () => !alive(before));
    expect((await server.get()).pid).to.not.equal(before);
    expect(server.eventsOf(before)).to.include('graceful timeout');
  });

  it('a worker blocked in a synchronous loop is killed and replaced; the next request is 2xx', async () => {
    const before = (await server.get()).pid;
    // A blocked worker cannot answer: its connection is closed when it is killed.
    const stuck = await server.request('/spin').then(
      (res) => `status ${res.status}`,
      (err: Error) => `error: ${err.message}`,
    );
    expect(stuck).to.match(/^(error|status 504)/);
    await waitFor('the stuck worker to be gone', () => !alive(before));
    expect((await server.get()).pid).to.not.equal(before);
    expect(server.stderr).to.match(/gave no sign of life for \d+ ms \(workerTimeout 1000 ms\): killing it/);
  });

  it('a reload whose new code does not load keeps the old worker serving', async () => {
    const before = (await server.get()).pid;
    // "Broken new code": the file the app reads at setup becomes unreadable (a directory).
    rmSync(server.versionFile);
    mkdirSync(server.versionFile);
    server.signal('SIGHUP');
    await waitFor('the reload to fail', () => /reload failed, still serving the previous app/.test(server.stderr));
    expect((await server.get()).pid).to.equal(before);
  });

  it('a worker whose primary was killed drains and exits instead of lingering on the port', async () => {
    const worker = (await server.get()).pid;
    server.kill();
    await server.exited;
    await waitFor('the orphaned worker to exit', () => !alive(worker));
    expect(server.eventsOf(worker)).to.include.members(['graceful parentGone', 'stop parentGone', 'exit parentGone']);
  });
});

describe('processPool reload and recycling under load (tsgi command)', function () {
  this.timeout(60_000);
  let server: CliServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('SIGHUP under load: 3 reloads, zero failed requests, the new code is served afterwards', async () => {
    server = await CliServer.start({ processPool: 2, gracefulTimeout: 10 });
    const s = server;
    const primary = s.pid;
    const load = loadLoop(s, { clients: 4, maxRequests: 20_000, maxMs: 50_000 });
    const count = (what: string, reason?: string): number => s.events().filter((e) => e.what === what && (reason === undefined || e.reason === reason)).length;
    for (let r = 1; r <= 3; r++) {
      s.setVersion(`v${r}`);
      s.signal('SIGHUP');
      // A round is over when both old workers were replaced (2 new starts) and have exited.
      await waitFor(`reload ${r}`, () => count('start') >= 2 + 2 * r && count('exit', 'reload') >= 2 * r, 40_000);
    }
    await load.stop();
    expect(load.failures).to.deep.equal([]);
    expect(load.sent).to.be.greaterThan(0);
    const after = await Promise.all(Array.from({ length: 6 }, () => s.get('/hold?ms=20')));
    expect(after.map((a) => a.version)).to.deep.equal(Array(6).fill('v3'));
    expect(s.pid).to.equal(primary);
    // An old worker went through start, reload, graceful, stop, exit, in that order.
    expect(s.eventsOf(s.events()[0].pid)).to.deep.equal(['start -', 'reload reload', 'graceful reload', 'stop reload', 'exit reload']);
  });

  it('maxRequests (+ jitter) recycles workers with zero failed requests', async () => {
    server = await CliServer.start({ processPool: 2, maxRequests: 15, maxRequestsJitter: 5 });
    const s = server;
    const load = loadLoop(s, { clients: 4, maxRequests: 20_000, maxMs: 50_000 });
    const recycled = (): number => s.events().filter((e) => e.what === 'exit' && e.reason === 'maxRequests').length;
    await waitFor('2 workers recycled', () => recycled() >= 2, 40_000);
    await load.stop();
    expect(load.failures).to.deep.equal([]);
    // A worker keeps serving while its replacement starts, so it may pass its limit; the replacements served too.
    expect(load.pids.size).to.be.greaterThan(2);
    for (const e of s.events().filter((x) => x.what === 'exit' && x.reason === 'maxRequests')) {
      expect(s.eventsOf(e.pid)).to.deep.equal(['start -', 'graceful maxRequests', 'stop maxRequests', 'exit maxRequests']);
    }
  });
});
