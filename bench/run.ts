/**
 * `npm run bench`: hello world on the built-in server (inline) against raw fastify and raw node:http,
 * each in its own process, measured in the same run (interleaved rounds, median). The target (issue 10):
 * tsgi inline >= 0.95x raw fastify, judged on the median of the per-round ratios (measure.ts pairedRatio).
 * Longer runs: BENCH_DURATION=10 BENCH_ROUNDS=5 npm run bench. Profile one server:
 * BENCH_PROFILE=dir writes a --cpu-prof of the tsgi server there. Servers under another Node binary:
 * TSGI_BENCH_NODE=/path/to/node npm run bench (bench/node-binary.ts; also for modes.js and gateways.js).
 * Also the cost of reverse-proxy mode and the PROXY protocol (bench/proxy-rows.ts: goal <= 3% fewer req/s);
 * BENCH_PROXY=0 leaves those rows out.
 */
import { fileURLToPath } from 'node:url';
import { childServer, formatResults, goalLine, measure, pairedRatio } from './measure.js';
import { proxyBaselines, proxyServers, reportProxy } from './proxy-rows.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const profileDir = process.env.BENCH_PROFILE;
const tsgiNodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];

const servers = [
  childServer('tsgi inline', here('./servers/tsgi-inline.js'), [], tsgiNodeArgs),
  childServer('fastify raw', here('./servers/fastify-raw.js')),
  childServer('node:http raw', here('./servers/node-http-raw.js')),
];
const withProxy = process.env.BENCH_PROXY !== '0';
const proxyRows = withProxy ? proxyServers() : [];
servers.push(...proxyRows);

const results = await measure(servers);
console.log('');
const isProxyRow = (name: string): boolean => proxyRows.some((p) => p.name === name);
console.log(formatResults(results.filter((r) => !isProxyRow(r.name)), ['fastify raw', 'node:http raw']));
const tsgi = results.find((r) => r.name === 'tsgi inline')!;
const fastify = results.find((r) => r.name === 'fastify raw')!;
// Issue 10's goal (an earlier one was 0.9x).
console.log('\n' + goalLine('tsgi inline / fastify raw', pairedRatio(tsgi, fastify), 0.95));
if (withProxy) {
  console.log('\nreverse-proxy mode and PROXY protocol v2 (same run):');
  console.log(formatResults(results.filter((r) => isProxyRow(r.name)), proxyBaselines()));
  reportProxy(results);
}
if (results.some((r) => r.errors > 0)) {
  console.error('some responses were errors: the figures are not comparable');
  process.exitCode = 1;
}
