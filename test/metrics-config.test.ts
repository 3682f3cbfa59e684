/**
 * The metrics options from a config file through serve(): statusPath on the app's own port (single mode
 * and threadPool), metricsListen as a separate listener closed with the server, statusAllow, value errors
 * that name the option; accepted under the process models too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { isTsgiError } from '../app-api/errors.js';
import { loadConfig, type Config } from '../gateway/config/index.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import type { MetricsSnapshot } from '../gateway/metrics/index.js';
import { checkAvailable, serve, type Running } from '../gateway/serve.js';
import { sendRequest } from './support/http-client.js';
import { parseProm, sample } from './fixtures/metrics/harness.js';

const APP = fileURLToPath(new URL('./fixtures/metrics/app.js', import.meta.url));

describe('metrics: config options through serve()', function () {
  this.timeout(60_000);
  let dir: string;
  let running: Running | undefined;
  let n = 0;
  const load = (text: string): Config => {
    const file = path.join(dir, `m${n++}.cfg`);
    writeFileSync(file, text);
    return loadConfig(file);
  };
  let memory = new MemoryLog();
  const start = async (text: string): Promise<Running> => {
    memory = new MemoryLog();
    return (running = await serve({ config: load(text), app: APP, log: new ErrorLog(memory) }));
  };
  const port = (r: Running): number => Number(new URL(r.url).port);

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-metrics-config-'));
  });
  afterEach(async () => {
    await running?.close(500);
    running = undefined;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('statusPath = /server-status serves the status page on the app port in single mode', async () => {
    const r = await start('[server]\nsocketPort = 0\nstatusPath = /server-status\n');
    const p = port(r);
    expect((await sendRequest({ port: p }, { method: 'GET', path: '/status/404' })).status).to.equal(404);
    const res = await sendRequest({ port: p }, { method: 'GET', path: '/server-status?json' });
    expect(res.status).to.equal(200);
    const s = JSON.parse(res.body.toString('utf8')) as MetricsSnapshot;
    expect(s.server.mode).to.equal('inline');
    expect(s.requests.byStatusClass['4xx']).to.equal(1);
  });

  it('with threadPool, the page lists the pool threads', async () => {
    const r = await start('[server]\nsocketPort = 0\nthreadPool = 2\nstatusPath = /status/\n');
    const res = await sendRequest({ port: port(r) }, { method: 'GET', path: '/status?json' });
    const s = JSON.parse(res.body.toString('utf8')) as MetricsSnapshot;
    expect(s.server.mode).to.equal('pool');
    expect(s.workers.list.map((w) => w.id)).to.have.length(2);
    expect(s.workers.idle).to.equal(2);
  });

  it('metricsListen starts a separate listener that closes with the server; statusAllow applies to it', async () => {
    const r = await start('[server]\nsocketPort = 0\nmetricsListen = 127.0.0.1:0\nstatusAllow = 127.0.0.1\n');
    // Port 0 picks a free port; the log says which.
    const line = memory.lines.find((l) => l.includes('metrics listening on '));
    expect(line, memory.lines.join('')).to.be.a('string');
    const metricsPort = Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(line!)![1]);
    expect(metricsPort).to.not.equal(port(r));
    await sendRequest({ port: port(r) }, { method: 'GET', path: '/' });
    const prom = await sendRequest({ port: metricsPort }, { method: 'GET', path: '/metrics' });
    expect(prom.status).to.equal(200);
    expect(sample(parseProm(prom.body.toString('utf8')).samples, 'tsgi_requests_total', { status_class: '2xx' })).to.equal(1);
    expect((await sendRequest({ port: metricsPort, localAddress: '127.0.0.2' }, { method: 'GET', path: '/metrics' })).status).to.equal(403);
    // Without statusPath the app's own port passes everything to the app.
    expect((await sendRequest({ port: port(r) }, { method: 'GET', path: '/server-status' })).body.toString('utf8')).to.equal('ok\n');
    await r.close(500);
    running = undefined;
    const refused = await sendRequest({ port: metricsPort }, { method: 'GET', path: '/metrics' }).then(
      () => 'answered',
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect(refused).to.equal('ECONNREFUSED');
  });

  it('names the option and the valid form when a value is wrong', () => {
    const failure = (text: string): string => {
      try {
        load(text);
      } catch (err) {
        expect(isTsgiError(err, 'TSGI_ERR_CONFIG'), String(err)).to.equal(true);
        return (err as Error).message;
      }
      throw new Error('expected TSGI_ERR_CONFIG');
    };
    expect(failure('[server]\nstatusPath = server-status\n')).to.match(/statusPath.*must be a URL path below the root/);
    expect(failure('[server]\nstatusPath = /\n')).to.match(/statusPath.*must be a URL path below the root/);
    expect(failure('[server]\nstatusAllow = 127.0.0.1, intranet\n')).to.match(/statusAllow.*'intranet' is not an IP address/);
    expect(failure('[server]\nmetricsListen = localhost\n')).to.match(/metricsListen.*must be HOST:PORT, PORT or unix:\/path/);
  });

  it('uses loopback-only as the statusAllow default and keeps the metrics off by default', () => {
    const c = load('[server]\n');
    expect(c.server.statusAllow).to.equal('127.0.0.0/8, ::1');
    expect(c.server.statusPath).to.equal(undefined);
    expect(c.server.metricsListen).to.equal(undefined);
  });

  it('accepts statusPath and metricsListen under processPool and forking (the supervisor collects; process-metrics.test.ts)', () => {
    for (const text of ['processPool = 2\nstatusPath = /server-status', 'forking = 1\nmetricsListen = 9100']) {
      expect(() => checkAvailable(load(`[server]\nsocketPort = 0\n${text}\n`))).to.not.throw();
    }
  });
});
