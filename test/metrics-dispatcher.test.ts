/**
 * withMetrics() around the inline dispatcher, without sockets: counts by status class, in-flight requests
 * on the event-loop "worker", the status endpoints (JSON, Prometheus text, HTML), the allow-list on
 * REMOTE_ADDR, HTML escaping of hostile request lines, and merging snapshots of several processes.
 */
import { expect } from 'chai';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { cgiFromHttp } from '../gateway/core/environ.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { allowList, escapeHtml, mergePrometheus, mergeSnapshots, withMetrics, type MeteredDispatcher, type MetricsSnapshot } from '../gateway/metrics/index.js';
import { FakeSink } from './support/fake-sink.js';
import { call, parseProm, sample, TestApp, waitUntil } from './fixtures/metrics/harness.js';

const STATUS = '/server-status';

function metered(app: TestApp, opts: Parameters<typeof withMetrics>[1] = {}): { d: MeteredDispatcher; memory: MemoryLog } {
  const memory = new MemoryLog();
  const log = new ErrorLog(memory);
  return { d: withMetrics(new InlineDispatcher(app.app, { log }), { statusPath: STATUS, log, ...opts }), memory };
}

async function json(d: MeteredDispatcher, remoteAddress?: string): Promise<MetricsSnapshot> {
  const res = await call(d, { url: `${STATUS}?json`, remoteAddress });
  expect(res.status, res.text).to.equal(200);
  expect(res.header('content-type')).to.match(/^application\/json/);
  return JSON.parse(res.text) as MetricsSnapshot;
}

describe('metrics: withMetrics around the inline dispatcher', () => {
  it('counts requests by status class, as ?json reports them', async () => {
    const app = new TestApp();
    const { d } = metered(app);
    for (const url of ['/', '/a', '/b?x=1', '/status/204', '/status/302', '/status/404', '/status/404', '/status/503', '/throw']) {
      await call(d, { url });
    }
    const s = await json(d);
    expect(s.requests.total).to.equal(9);
    expect(s.requests.inFlight).to.equal(0);
    expect(s.requests.byStatusClass).to.deep.equal({ '1xx': 0, '2xx': 4, '3xx': 1, '4xx': 2, '5xx': 2, none: 0 });
    expect(s.requests.durations.count).to.equal(9);
    expect(s.server.mode).to.equal('inline');
    expect(s.server.pids).to.deep.equal([process.pid]);
    // The status requests themselves are not the app's traffic.
    expect((await json(d)).requests.total).to.equal(9);
    expect(app.seen).to.have.length(9);
  });

  it('shows a slow request in flight on the event-loop worker, with its request line', async () => {
    const app = new TestApp();
    const { d } = metered(app);
    const slow = call(d, { url: '/hold/report?year=2024' });
    await waitUntil('the app holds the request', () => app.held === 1);
    const during = await json(d);
    expect(during.requests.inFlight).to.equal(1);
    expect(during.workers).to.include({ total: 1, busy: 1, idle: 0 });
    const [worker] = during.workers.list;
    expect(worker.id).to.equal('event loop');
    expect(worker.state).to.equal('busy');
    expect(worker.current).to.have.length(1);
    expect(worker.current[0]).to.include({ method: 'GET', target: '/hold/report?year=2024', requestLine: 'GET /hold/report?year=2024 HTTP/1.1' });
    expect(worker.current[0].ageMs).to.be.a('number').and.at.least(0);
    app.release();
    expect((await slow).status).to.equal(200);
    const after = await json(d);
    expect(after.requests.inFlight).to.equal(0);
    expect(after.workers).to.include({ busy: 0, idle: 1 });
    expect(after.workers.list[0].current).to.deep.equal([]);
    expect(after.requests.byStatusClass['2xx']).to.equal(1);
  });

  it('counts a request that ended without any response (client gone) under "none"', async () => {
    const { d } = metered(new TestApp());
    const sink = new FakeSink();
    sink.closed = true; // the client left before the app failed: the core has nobody to answer
    await d.dispatch({ cgi: cgiFromHttp({ method: 'GET', url: '/throw', httpVersion: '1.1', rawHeaders: ['Host', 'x'], scheme: 'http' }), body: null }, sink);
    expect(sink.status).to.equal(undefined);
    const s = d.snapshot();
    expect(s.requests.total).to.equal(1);
    expect(s.requests.byStatusClass).to.include({ none: 1, '5xx': 0 });
  });

  it('serves Prometheus text that parses, with every tsgi metric and the counts of ?json', async () => {
    const app = new TestApp();
    const { d } = metered(app);
    for (const url of ['/', '/', '/status/404', '/throw']) await call(d, { url });
    const res = await call(d, { url: `${STATUS}/metrics` });
    expect(res.status).to.equal(200);
    expect(res.header('content-type')).to.equal(d.metrics.contentType);
    expect(res.header('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parseProm(res.text);
    expect(Object.fromEntries(types)).to.include({
      tsgi_requests_total: 'counter',
      tsgi_requests_in_flight: 'gauge',
      tsgi_workers: 'gauge',
      tsgi_queue_length: 'gauge',
      tsgi_queue_wait_seconds: 'histogram',
      tsgi_request_duration_seconds: 'histogram',
    });
    expect(sample(samples, 'tsgi_requests_total', { status_class: '2xx' })).to.equal(2);
    expect(sample(samples, 'tsgi_requests_total', { status_class: '4xx' })).to.equal(1);
    expect(sample(samples, 'tsgi_requests_total', { status_class: '5xx' })).to.equal(1);
    expect(sample(samples, 'tsgi_requests_in_flight')).to.equal(0);
    expect(sample(samples, 'tsgi_workers', { state: 'idle' })).to.equal(1);
    expect(sample(samples, 'tsgi_workers', { state: 'busy' })).to.equal(0);
    expect(sample(samples, 'tsgi_queue_length')).to.equal(0);
    expect(sample(samples, 'tsgi_request_duration_seconds_count')).to.equal(4);
    expect(sample(samples, 'tsgi_request_duration_seconds_bucket', { le: '+Inf' })).to.equal(4);
    expect(sample(samples, 'tsgi_queue_wait_seconds_count')).to.equal(0);
  });

  it('keeps each metered dispatcher in its own registry', async () => {
    const a = metered(new TestApp()).d;
    const b = metered(new TestApp()).d;
    await call(a, { url: '/' });
    const text = (await b.prometheus()).text;
    expect(text).to.not.match(/^tsgi_requests_total\{status_class="2xx"\} 1$/m);
    expect((await a.prometheus()).text).to.match(/^tsgi_requests_total\{status_class="2xx"\} 1$/m);
  });

  it('refuses the status endpoints to a REMOTE_ADDR not on the allow-list, without calling the app', async () => {
    const app = new TestApp();
    const { d } = metered(app);
    for (const url of [STATUS, `${STATUS}?json`, `${STATUS}/metrics`]) {
      const res = await call(d, { url, remoteAddress: '203.0.113.9', headers: [['X-Forwarded-For', '127.0.0.1']] });
      expect(res.status, url).to.equal(403);
      expect(res.text).to.not.include('tsgi_');
      expect(res.text).to.not.include('requests');
    }
    expect(app.seen).to.deep.equal([]);
    expect((await call(d, { url: STATUS, remoteAddress: '::1' })).status).to.equal(200);
    expect((await call(d, { url: STATUS, remoteAddress: '::ffff:127.0.0.1' })).status).to.equal(200);
    expect((await call(d, { url: STATUS, remoteAddress: '127.3.4.5' })).status).to.equal(200);
  });

  it('allows the addresses and subnets given in allow', async () => {
    const { d } = metered(new TestApp(), { allow: '10.0.0.0/8, 2001:db8::/32' });
    expect((await call(d, { url: STATUS, remoteAddress: '10.20.30.40' })).status).to.equal(200);
    expect((await call(d, { url: STATUS, remoteAddress: '2001:db8::7' })).status).to.equal(200);
    expect((await call(d, { url: STATUS, remoteAddress: '11.0.0.1' })).status).to.equal(403);
    expect((await call(d, { url: STATUS, remoteAddress: '127.0.0.1' })).status).to.equal(403);
  });

  it('rejects an allow-list entry that is not an address, naming it', () => {
    expect(() => allowList('127.0.0.1, localhost')).to.throw(/'localhost' is not an IP address/);
    expect(() => allowList('10.0.0.0/33')).to.throw(/bad prefix length/);
    expect(allowList('*').allows('198.51.100.1')).to.equal(true);
    expect(allowList([]).allows('127.0.0.1')).to.equal(false);
    expect(allowList().allows('')).to.equal(false); // a unix-socket client has no address
  });

  it('answers only GET and HEAD, and 404 below the status path; passes other paths to the app', async () => {
    const app = new TestApp();
    const { d } = metered(app);
    const post = await call(d, { method: 'POST', url: STATUS });
    expect(post.status).to.equal(405);
    expect(post.header('allow')).to.equal('GET, HEAD');
    expect((await call(d, { url: `${STATUS}/nope` })).status).to.equal(404);
    const head = await call(d, { method: 'HEAD', url: `${STATUS}?json` });
    expect(head.status).to.equal(200);
    expect(head.text).to.equal('');
    expect((await call(d, { url: `${STATUS}-not` })).status).to.equal(200);
    expect(app.seen).to.deep.equal(['GET /server-status-not']);
  });

  it('matches statusPath against SCRIPT_NAME + PATH_INFO, so it works under a mount', async () => {
    const app = new TestApp();
    const { d } = metered(app, { statusPath: '/app/server-status' });
    const res = await call(d, { url: '/app/server-status/metrics', scriptName: '/app' });
    expect(res.status).to.equal(200);
    expect(res.text).to.include('tsgi_requests_total');
    expect((await call(d, { url: '/app/server-status?json', scriptName: '/app' })).status).to.equal(200);
    expect((await call(d, { url: '/app/other', scriptName: '/app' })).status).to.equal(200);
    expect(app.seen).to.deep.equal(['GET /other']);
  });

  it('HTML-escapes a hostile request line on the status page, which forbids scripts', async () => {
    const app = new TestApp();
    const { d } = metered(app);
    const hostile = `/hold/<script>alert("x")</script>?q=<img src=x onerror='y'>&a=1`;
    const slow = call(d, { url: hostile });
    await waitUntil('the app holds the request', () => app.held === 1);
    const res = await call(d, { url: STATUS });
    app.release();
    await slow;
    expect(res.status).to.equal(200);
    expect(res.header('content-type')).to.equal('text/html; charset=utf-8');
    expect(res.header('content-security-policy')).to.include("default-src 'none'");
    expect(res.text).to.not.include('<script');
    expect(res.text).to.not.include('<img');
    expect(res.text).to.include('/hold/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;?q=&lt;img src=x onerror=&#39;y&#39;&gt;&amp;a=1');
  });

  it('escapeHtml escapes the five HTML metacharacters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).to.equal('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('sets a meta refresh only when ?refresh=N asks for it', async () => {
    const { d } = metered(new TestApp());
    expect((await call(d, { url: STATUS })).text).to.not.include('http-equiv="refresh"');
    expect((await call(d, { url: `${STATUS}?refresh=5` })).text).to.include('<meta http-equiv="refresh" content="5">');
  });

  it('refuses a statusPath that is not below the root', () => {
    const inner = new InlineDispatcher(new TestApp().app, { log: new ErrorLog(new MemoryLog()) });
    expect(() => withMetrics(inner, { statusPath: '/' })).to.throw(/must be a path below the root/);
    expect(() => withMetrics(inner, { statusPath: 'status' })).to.throw(/must be a path below the root/);
  });

  it('merges the snapshots and registries of several processes', async () => {
    const a = metered(new TestApp()).d;
    const b = metered(new TestApp()).d;
    await call(a, { url: '/' });
    await call(b, { url: '/' });
    await call(b, { url: '/status/500' });
    const merged = mergeSnapshots([
      { ...a.snapshot(), server: { ...a.snapshot().server, pids: [101] } },
      { ...b.snapshot(), server: { ...b.snapshot().server, pids: [102] } },
    ]);
    expect(merged.server.mode).to.equal('merged');
    expect(merged.server.pids).to.deep.equal([101, 102]);
    expect(merged.requests.total).to.equal(3);
    expect(merged.requests.byStatusClass).to.include({ '2xx': 2, '5xx': 1 });
    expect(merged.workers.list.map((w) => w.id)).to.deep.equal(['pid 101/event loop', 'pid 102/event loop']);
    const prom = await mergePrometheus([await a.prometheusJSON(), await b.prometheusJSON()]);
    const { samples } = parseProm(prom.text);
    expect(sample(samples, 'tsgi_requests_total', { status_class: '2xx' })).to.equal(2);
    expect(sample(samples, 'tsgi_request_duration_seconds_count')).to.equal(3);
    expect(sample(samples, 'tsgi_workers', { state: 'idle' })).to.equal(2);
  });
});
