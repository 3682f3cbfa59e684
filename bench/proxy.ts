/**
 * `npm run bench:proxy`: what reverse-proxy mode and the PROXY protocol cost, hello world, in one run
 * (interleaved rounds, median; goal: <= 3% fewer req/s):
 *
 * - `tsgi inline` vs `tsgi proxy mode`: the trusted-proxy dispatcher rewriting every request, whose
 *   X-Forwarded-For and X-Forwarded-Proto come from a trusted peer (127.0.0.1); both get the same headers;
 * - `haproxy -> tsgi` vs `haproxy pp2 -> tsgi`: HAProxy (TCP mode, one thread) in front of each, plain and
 *   with `send-proxy-v2` to a `proxyProtocol` listener. wrk cannot write a PROXY header, so HAProxy does, as
 *   in production. Set BENCH_CLOSE=1 to send `Connection: close` (a new connection, so a new PROXY header,
 *   per request) instead of keep-alive. The HAProxy pair is skipped when haproxy is not installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrustedProxyDispatcher } from '../adapters/proxy/dispatcher.js';
import { ErrorLog } from '../gateway/core/log.js';
import { childServer, formatResults, measure, type BenchServer } from './measure.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const close: Record<string, string> = process.env.BENCH_CLOSE === '1' ? { Connection: 'close' } : {};
const FORWARDED = { 'X-Forwarded-For': '192.0.2.7', 'X-Forwarded-Proto': 'https', ...close };

function withHeaders(server: BenchServer, headers: Record<string, string>): BenchServer {
  return { name: server.name, start: async () => ({ ...(await server.start()), headers }) };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** HAProxy in TCP mode on a free port in front of `backend`; `sendProxy` adds `send-proxy-v2`. */
function behindHaproxy(name: string, backend: BenchServer, sendProxy: boolean): BenchServer {
  return {
    name,
    async start() {
      const b = await backend.start();
      const dir = mkdtempSync(join(tmpdir(), 'tsgi-bench-haproxy-'));
      const port = await freePort();
      const upstream = new URL(b.url).host;
      const cfg = join(dir, 'haproxy.cfg');
      writeFileSync(cfg, `global\n    nbthread 1\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\nfrontend f\n    bind 127.0.0.1:${port}\n    default_backend b\nbackend b\n    server s ${upstream}${sendProxy ? ' send-proxy-v2' : ''}\n`);
      const hp = spawn('haproxy', ['-db', '-f', cfg], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        const ok = await new Promise<boolean>((resolve) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); resolve(true); }).once('error', () => resolve(false)));
        if (ok) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      return {
        url: `http://127.0.0.1:${port}`,
        pid: b.pid,
        headers: close,
        async stop() {
          hp.kill('SIGTERM');
          await b.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

const inline = childServer('tsgi inline', here('./servers/tsgi-inline.js'));
// The same two headers to both, so the difference is the rewrite, not llhttp parsing two more headers.
const servers: BenchServer[] = [withHeaders(inline, FORWARDED), withHeaders(childServer('tsgi proxy mode', here('./servers/tsgi-proxy.js'), ['wrap']), FORWARDED)];
const haveHaproxy = spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).error === undefined;
if (haveHaproxy) {
  servers.push(behindHaproxy('haproxy -> tsgi', childServer('tsgi', here('./servers/tsgi-inline.js')), false));
  servers.push(behindHaproxy('haproxy pp2 -> tsgi', childServer('tsgi pp', here('./servers/tsgi-proxy.js'), ['pp']), true));
} else console.error('haproxy is not installed: the PROXY protocol pair is skipped (Debian package: haproxy)');

/**
 * The rewrite alone, in this process: CPU microseconds per request for the trusted-proxy dispatcher on a
 * request with X-Forwarded-For and X-Forwarded-Proto. Steadier than req/s on a busy machine, and comparable
 * with the CPU time a whole request takes (1 / req-per-cpu-s).
 */
function rewriteMicros(): number {
  const log = new ErrorLog();
  const d = new TrustedProxyDispatcher({ dispatch() {}, close: async () => {} }, { log });
  const fresh = (): Record<string, string> => ({
    REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/', QUERY_STRING: '', SERVER_NAME: 'localhost', SERVER_PORT: '8080', SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: '40000', HTTP_HOST: 'localhost:8080', HTTP_X_FORWARDED_FOR: '192.0.2.7', HTTP_X_FORWARDED_PROTO: 'https',
  });
  const n = 200_000;
  for (let i = 0; i < n / 10; i++) d.dispatch({ cgi: fresh(), body: null }, null as never); // warm-up
  const base0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fresh();
  const base = process.cpuUsage(base0);
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) d.dispatch({ cgi: fresh(), body: null }, null as never);
  const t = process.cpuUsage(t0);
  return (t.user + t.system - (base.user + base.system)) / n;
}
const micros = rewriteMicros();
console.error(`proxy-mode rewrite alone: ${micros.toFixed(2)} CPU us per request`);

const results = await measure(servers);
console.log('');
console.log(formatResults(results, ['tsgi inline', ...(haveHaproxy ? ['haproxy -> tsgi'] : [])]));
const by = (n: string) => results.find((r) => r.name === n);
const report = (what: string, a: string, b: string): void => {
  const x = by(a);
  const y = by(b);
  if (x === undefined || y === undefined) return;
  const loss = 1 - y.medianRps / x.medianRps;
  console.log(`${what}: ${(loss * 100).toFixed(1)}% fewer req/s than ${a} (goal <= 3%: ${loss <= 0.03 ? 'met' : 'MISSED'})`);
};
report('proxy mode', 'tsgi inline', 'tsgi proxy mode');
const inlineCpu = by('tsgi inline')?.medianReqPerCpuSec;
if (inlineCpu !== undefined) console.log(`proxy-mode rewrite alone: ${micros.toFixed(2)} CPU us per request = ${((micros / 1e6) * inlineCpu * 100).toFixed(1)}% of a tsgi inline request's CPU (${(1e6 / inlineCpu).toFixed(1)} us)`);
report('PROXY protocol v2', 'haproxy -> tsgi', 'haproxy pp2 -> tsgi');
if (results.some((r) => r.runs.some((run) => run.errors > 0))) {
  console.error('some responses were errors: the figures are not comparable');
  process.exitCode = 1;
}
