/**
 * Metrics under processPool and forking, through the real `tsgi` command: the supervisor asks its workers
 * for their numbers over IPC and serves the sum on metricsListen (HTML, JSON, Prometheus); statusPath on
 * the app's port shows the whole pool whichever worker answers; the numbers of workers that exited (every
 * forked child, after its connection) stay counted.
 */
import { expect } from 'chai';
import type { MetricsSnapshot } from '../gateway/metrics/index.js';
import { parseProm, sample } from './fixtures/metrics/harness.js';
import { alive, CliServer, waitFor } from './fixtures/process/harness.js';
import { sendRequest } from './support/http-client.js';

/** The metrics listener's port, from its log line. */
function metricsPort(server: CliServer): number {
  const m = /metrics listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(server.stderr);
  if (m === null) throw new Error(`no metrics listener line in:\n${server.stderr}`);
  return Number(m[1]);
}

async function get(port: number, path: string): Promise<{ status: number; type: string; text: string }> {
  const res = await sendRequest({ port }, { method: 'GET', path, headers: [['Connection', 'close']] });
  return { status: res.status, type: String(res.headers['content-type']), text: res.body.toString('utf8') };
}

async function snapshot(port: number, path = '/?json'): Promise<MetricsSnapshot> {
  const res = await get(port, path);
  expect(res.status).to.equal(200, res.text);
  return JSON.parse(res.text) as MetricsSnapshot;
}

describe('metrics under processPool = 2 (tsgi command)', function () {
  this.timeout(60_000);
  let server: CliServer;
  let mport: number;
  const N = 8;
  const answeredBy = new Set<number>();

  before(async () => {
    server = await CliServer.start({ processPool: 2, metricsListen: '127.0.0.1:0', statusPath: '/server-status', gracefulTimeout: 20 });
    await waitFor('the metrics listener', () => /metrics listening on/.test(server.stderr));
    mport = metricsPort(server);
    // Concurrent requests that keep their worker busy: both workers serve some.
    for (let i = 0; i < N; i += 4) {
      const answers = await Promise.all(Array.from({ length: 4 }, () => server.get('/hold?ms=100')));
      for (const a of answers) answeredBy.add(a.pid);
    }
  });
  after(() => server?.close());

  it('the status JSON on metricsListen counts every request of every worker and lists both worker pids', async () => {
    const s = await snapshot(mport);
    expect(s.requests.total).to.equal(N);
    expect(s.requests.byStatusClass['2xx']).to.equal(N);
    expect(s.server.mode).to.equal('processPool');
    expect(s.server.pids).to.have.length(2);
    expect(s.server.pids).to.not.include(server.pid);
    expect(s.workers.list.map((w) => w.id).sort()).to.deep.equal(s.server.pids.map((p) => `pid ${p}`).sort());
    for (const pid of answeredBy) expect(s.server.pids).to.include(pid);
    expect(s.workers.list.reduce((n, w) => n + (w.served ?? 0), 0)).to.equal(N);
  });

  it('the Prometheus text parses and its counters add up to the requests served', async () => {
    const res = await get(mport, '/metrics');
    expect(res.status).to.equal(200);
    expect(res.type).to.match(/^text\/plain/);
    const { samples, types } = parseProm(res.text);
    expect(types.get('tsgi_requests_total')).to.equal('counter');
    expect(sample(samples, 'tsgi_requests_total', { status_class: '2xx' })).to.equal(N);
    expect(sample(samples, 'tsgi_request_duration_seconds_count')).to.equal(N);
    expect(sample(samples, 'tsgi_request_duration_seconds_bucket', { le: '+Inf' })).to.equal(N);
    expect(sample(samples, 'tsgi_workers', { state: 'idle' })).to.equal(2);
  });

  it('a slow request in flight shows in the status JSON and page with its worker, request line and age', async () => {
    const slow = server.get('/slow?ms=1500');
    await waitFor('the slow request to start', () => server.events().some((e) => e.what === 'request-begin'));
    const worker = server.events().find((e) => e.what === 'request-begin')!.pid;
    const s = await snapshot(mport);
    expect(s.requests.inFlight).to.equal(1);
    const row = s.workers.list.find((w) => w.id === `pid ${worker}`)!;
    expect(row.state).to.equal('busy');
    expect(row.current.map((c) => c.requestLine)).to.deep.equal(['GET /slow?ms=1500 HTTP/1.1']);
    expect(row.current[0].ageMs).to.be.at.least(0);
    const page = await get(mport, '/');
    expect(page.type).to.match(/^text\/html/);
    expect(page.text).to.contain(`<td>pid ${worker}</td><td>busy</td>`);
    expect(page.text).to.contain('/slow?ms=1500');
    await slow;
  });

  it('statusPath on the app port shows the whole pool, whichever worker answers', async () => {
    for (let i = 0; i < 4; i++) {
      const s = await snapshot(server.port, '/server-status?json');
      expect(s.server.pids).to.have.length(2);
      expect(s.requests.total).to.equal(N + 1); // and the slow request; status requests are not counted
    }
    const prom = await get(server.port, '/server-status/metrics');
    expect(sample(parseProm(prom.text).samples, 'tsgi_requests_total', { status_class: '2xx' })).to.equal(N + 1);
  });

  it('keeps the counts of a worker that is replaced (SIGKILL): the totals never go down', async () => {
    const before = await snapshot(mport);
    const victim = before.server.pids[0];
    process.kill(victim, 'SIGKILL');
    await waitFor('the killed worker to be replaced', () => !alive(victim));
    let after = await snapshot(mport);
    for (let i = 0; i < 100 && (after.server.pids.length < 2 || after.server.pids.includes(victim)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await snapshot(mport);
    }
    expect(after.server.pids).to.not.include(victim);
    expect(after.requests.total).to.equal(before.requests.total);
  });
});

describe('metrics under forking = 1 (tsgi command)', function () {
  this.timeout(60_000);
  let server: CliServer;
  let mport: number;

  before(async () => {
    server = await CliServer.start({ forking: 1, metricsListen: '127.0.0.1:0', gracefulTimeout: 20 });
    await waitFor('the metrics listener', () => /metrics listening on/.test(server.stderr));
    mport = metricsPort(server);
  });
  after(() => server?.close());

  it('counts the requests of children that served their connection and exited', async () => {
    const pids: number[] = [];
    for (let i = 0; i < 3; i++) pids.push((await server.get('/')).pid);
    await waitFor('the children to exit', () => pids.every((p) => !alive(p)));
    const s = await snapshot(mport);
    expect(s.requests.total).to.equal(3);
    expect(s.server.mode).to.equal('forking');
    for (const p of pids) expect(s.server.pids).to.not.include(p);
    const { samples } = parseProm((await get(mport, '/metrics')).text);
    expect(sample(samples, 'tsgi_requests_total', { status_class: '2xx' })).to.equal(3);
  });
});
