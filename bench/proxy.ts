/**
 * `npm run bench:proxy`: what reverse-proxy mode and the PROXY protocol cost, hello world, in one run
 * (interleaved rounds, median; goal: <= 3% fewer req/s). The rows are bench/proxy-rows.ts's (also in
 * `npm run bench`); this script adds the CPU cost of the proxy-mode rewrite alone, measured in-process.
 */
import { TrustedProxyDispatcher } from '../adapters/proxy/dispatcher.js';
import { ErrorLog } from '../gateway/core/log.js';
import { formatResults, measure } from './measure.js';
import { proxyBaselines, proxyServers, reportProxy } from './proxy-rows.js';

const INLINE = 'tsgi inline';
const servers = proxyServers(INLINE);

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
console.log(formatResults(results, proxyBaselines(INLINE)));
reportProxy(results, INLINE);
const inlineCpu = results.find((r) => r.name === INLINE)?.medianReqPerCpuSec;
if (inlineCpu !== undefined) console.log(`proxy-mode rewrite alone: ${micros.toFixed(2)} CPU us per request = ${((micros / 1e6) * inlineCpu * 100).toFixed(1)}% of a tsgi inline request's CPU (${(1e6 / inlineCpu).toFixed(1)} us)`);
if (results.some((r) => r.runs.some((run) => run.errors > 0))) {
  console.error('some responses were errors: the figures are not comparable');
  process.exitCode = 1;
}
