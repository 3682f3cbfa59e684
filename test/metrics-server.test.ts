/**
 * Metrics over real sockets: withMetrics around a thread pool behind the built-in server (threads as
 * workers, the queue, queue-wait samples), the status path on the app's own port, and the separate
 * metrics listener over TCP (allow-list on the socket peer) and a unix socket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startHttpServer, type HttpServer } from '../adapters/http/server.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { parseMetricsListen, startMetricsServer, withMetrics, type MeteredDispatcher, type MetricsServer, type MetricsSnapshot } from '../gateway/metrics/index.js';
import { ThreadPoolDispatcher } from '../gateway/threads/thread-pool.js';
import { sendRequest, type RawResponse } from './support/http-client.js';
import { FileGate, parseProm, sample, TestApp, waitUntil } from './fixtures/metrics/harness.js';

const POOL_APP = fileURLToPath(new URL('./fixtures/metrics/app.js', import.meta.url));

describe('metrics: thread pool behind the built-in server, status path on the same port', function () {
  this.timeout(60_000);
  let pool: ThreadPoolDispatcher;
  let metered: MeteredDispatcher;
  let server: HttpServer;
  const get = (p: string): Promise<RawResponse> => sendRequest({ port: server.port }, { method: 'GET', path: p });
  const snapshot = async (): Promise<MetricsSnapshot> => JSON.parse((await get('/server-status?json')).body.toString('utf8')) as MetricsSnapshot;

  before(async () => {
    const log = new ErrorLog(new MemoryLog());
    pool = new ThreadPoolDispatcher({ app: POOL_APP, log, size: 1, maxQueue: 8 });
    await pool.start();
    metered = withMetrics(pool, { statusPath: '/server-status', log });
    server = await startHttpServer(metered, { port: 0, log });
  });
  after(async () => {
    await server?.close(1000);
    await metered?.close();
    FileGate.cleanup();
  });

  it('lists the pool thread busy with the held request, and the next one queued', async () => {
    const gate = new FileGate('held');
    const held = get(`/report/q3?${gate.query}`);
    await waitUntil('the thread takes the held request', async () => (await snapshot()).workers.busy === 1);
    const queued = get('/status/404');
    await waitUntil('a second request waits in the queue', async () => (await snapshot()).queue.length === 1);

    const s = await snapshot();
    expect(s.server.mode).to.equal('pool');
    expect(s.requests.inFlight).to.equal(2);
    expect(s.workers).to.include({ busy: 1, idle: 0 });
    const busy = s.workers.list.filter((w) => w.state === 'busy');
    expect(busy).to.have.length(1);
    expect(busy[0].id).to.match(/^thread \d+$/);
    expect(busy[0].current[0].method).to.equal('GET');
    expect(busy[0].current[0].target).to.equal(`/report/q3?${gate.query}`);
    const prom = parseProm((await get('/server-status/metrics')).body.toString('utf8')).samples;
    expect(sample(prom, 'tsgi_queue_length')).to.equal(1);
    expect(sample(prom, 'tsgi_workers', { state: 'busy' })).to.equal(1);
    expect(sample(prom, 'tsgi_requests_in_flight')).to.equal(2);

    gate.open();
    expect((await held).status).to.equal(200);
    expect((await queued).status).to.equal(404);
    const done = await snapshot();
    expect(done.requests).to.include({ total: 2, inFlight: 0 });
    expect(done.requests.byStatusClass).to.include({ '2xx': 1, '4xx': 1 });
    expect(done.queue.length).to.equal(0);
    // Both requests got a thread: one at once, one after waiting behind the held one.
    expect(done.queue.waits.count).to.equal(2);
    expect(done.queue.waits.sum).to.be.greaterThan(0);
    const after = parseProm((await get('/server-status/metrics')).body.toString('utf8')).samples;
    expect(sample(after, 'tsgi_queue_wait_seconds_count')).to.equal(2);
    expect(sample(after, 'tsgi_request_duration_seconds_count')).to.equal(2);
  });

  it('serves the HTML page with a row per thread', async () => {
    const res = await get('/server-status');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('text/html; charset=utf-8');
    const html = res.body.toString('utf8');
    expect(html).to.match(/<td>thread \d+<\/td><td>idle<\/td>/);
    expect(html).to.include('Mode</dt><dd>pool</dd>');
  });
});

describe('metrics: separate listener (startMetricsServer)', function () {
  this.timeout(30_000);
  let app: TestApp;
  let metered: MeteredDispatcher;
  let listener: MetricsServer | undefined;
  let dir: string | undefined;

  beforeEach(() => {
    app = new TestApp();
    metered = withMetrics(new InlineDispatcher(app.app, { log: new ErrorLog(new MemoryLog()) }));
  });
  afterEach(async () => {
    await listener?.close();
    listener = undefined;
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('serves the page at /, JSON at /?json and Prometheus text at /metrics on its own port', async () => {
    listener = await startMetricsServer({ host: '127.0.0.1', port: 0 }, metered);
    expect(listener.url).to.equal(`http://127.0.0.1:${listener.port}`);
    const html = await sendRequest({ port: listener.port }, { method: 'GET', path: '/' });
    expect(html.status).to.equal(200);
    expect(html.body.toString('utf8')).to.include('<table id="workers">');
    expect(html.body.toString('utf8')).to.include('href="?json"');
    const json = await sendRequest({ port: listener.port }, { method: 'GET', path: '/?json' });
    expect(JSON.parse(json.body.toString('utf8')).requests.total).to.equal(0);
    const prom = await sendRequest({ port: listener.port }, { method: 'GET', path: '/metrics' });
    expect(prom.headers['content-type']).to.equal(metered.metrics.contentType);
    expect(sample(parseProm(prom.body.toString('utf8')).samples, 'tsgi_requests_in_flight')).to.equal(0);
    expect((await sendRequest({ port: listener.port }, { method: 'GET', path: '/other' })).status).to.equal(404);
    expect(app.seen).to.deep.equal([]);
  });

  it('refuses a TCP client whose address is not on its allow-list', async () => {
    listener = await startMetricsServer({ host: '127.0.0.1', port: 0, allow: ['127.0.0.1'] }, metered);
    const ok = await sendRequest({ port: listener.port, localAddress: '127.0.0.1' }, { method: 'GET', path: '/metrics' });
    expect(ok.status).to.equal(200);
    const refused = await sendRequest({ port: listener.port, localAddress: '127.0.0.2' }, { method: 'GET', path: '/metrics' });
    expect(refused.status).to.equal(403);
    expect(refused.body.toString('utf8')).to.not.include('tsgi_');
  });

  it('serves on a unix socket, where the file permissions decide who connects', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-metrics-'));
    const socketFile = path.join(dir, 'metrics.sock');
    listener = await startMetricsServer({ socketFile }, metered);
    expect(listener.url).to.equal(`unix:${socketFile}`);
    const res = await sendRequest({ socketPath: socketFile }, { method: 'GET', path: '/?json' });
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body.toString('utf8')).server.mode).to.equal('inline');
  });

  it('parses metricsListen values', () => {
    expect(parseMetricsListen('127.0.0.1:9100')).to.deep.equal({ host: '127.0.0.1', port: 9100 });
    expect(parseMetricsListen('[::1]:9100')).to.deep.equal({ host: '::1', port: 9100 });
    expect(parseMetricsListen('9100')).to.deep.equal({ host: undefined, port: 9100 });
    expect(parseMetricsListen('unix:/run/tsgi-metrics.sock')).to.deep.equal({ socketFile: '/run/tsgi-metrics.sock' });
    expect(() => parseMetricsListen('localhost')).to.throw(/metricsListen: 'localhost' is not HOST:PORT/);
    expect(() => parseMetricsListen('1.2.3.4:70000')).to.throw(/metricsListen/);
  });
});
