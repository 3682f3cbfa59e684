/**
 * `npm run bench:uwsgi`: tsgi processPool=2 against uWSGI with 2 worker processes, both behind the same
 * nginx, over FastCGI and over SCGI, measured in one run.
 *
 * Backends (hello world, same bytes and headers):
 *   fastcgi tsgi    the tsgi command, `protocol = fastcgi`, `processPool = 2`, examples/hello
 *   fastcgi uwsgi   `uwsgi --master --processes 2 --fastcgi-socket`, bench/uwsgi/hello_wsgi.py (python3 plugin)
 *   scgi tsgi       the tsgi command, `protocol = scgi`, `processPool = 2`
 *   scgi uwsgi      `uwsgi --master --processes 2 --scgi-socket`
 *   scgi tsgi single  the tsgi command, `protocol = scgi`, single mode (one process): the pool's share
 * nginx (1 worker, access_log off; bench/nginx/uwsgi.conf) has one port per backend; FastCGI with
 * fastcgi_keep_conn on and upstream keep-alive for both (BENCH_KEEP_CONN=off to compare without).
 * Load: measure() (wrk -t1 -c32 against nginx, interleaved rounds, medians). Reported: req/s, and the
 * backend's CPU per request summed over its whole process tree (master and both workers).
 *
 *     apt-get install -y uwsgi uwsgi-plugin-python3 nginx-light wrk
 *     npm run bench:uwsgi
 *     BENCH_PROFILE=/tmp/prof npm run bench:uwsgi     # --cpu-prof of the tsgi processes (workers inherit it)
 * plus the BENCH_* settings of bench/measure.ts (rounds, duration, connections...).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary } from '../test/integration/harness/binaries.js';
import { Daemon, removeDir, tempDir } from '../test/integration/harness/daemon.js';
import { freePort } from '../test/integration/harness/ports.js';
import { REPO_ROOT } from '../test/integration/harness/template.js';
import { cpuSecondsOf, measure, type BenchResult, type BenchServer } from './measure.js';
import { childPids, startNginx, type BenchNginx } from './nginx.js';
import { benchNode } from './node-binary.js';

const CLI = fileURLToPath(new URL('../gateway/cli.js', import.meta.url));
const APP = fileURLToPath(new URL('../examples/hello/app.js', import.meta.url));
const WSGI = join(REPO_ROOT, 'bench', 'uwsgi', 'hello_wsgi.py');
const HELLO = 'Hello, world!\n';
const KEEP_CONN = process.env.BENCH_KEEP_CONN === 'off' ? 'off' : 'on';

interface Backend {
  name: string;
  /** Placeholder prefix in bench/nginx/uwsgi.conf. */
  vars: string;
  command(port: number, dir: string): { command: string; args: string[] };
}

function tsgi(protocol: 'fastcgi' | 'scgi', pool = true): Backend['command'] {
  return (port, dir) => {
    const cfg = join(dir, `tsgi-${protocol}${pool ? '-pool' : ''}.cfg`);
    writeFileSync(cfg, `[server]\nsocketHost = 127.0.0.1\nsocketPort = ${port}\nprotocol = ${protocol}\n${pool ? 'processPool = 2\n' : ''}`);
    const profile = process.env.BENCH_PROFILE === undefined || process.env.BENCH_PROFILE === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`];
    return { command: benchNode, args: [...profile, CLI, APP, '-C', cfg] };
  };
}

function uwsgi(flag: '--fastcgi-socket' | '--scgi-socket'): Backend['command'] {
  return (port) => ({
    command: findBinary('uwsgi') ?? 'uwsgi',
    args: ['--plugin', 'python3', '--master', '--processes', '2', '--threads', '1', flag, `127.0.0.1:${port}`, '--wsgi-file', WSGI, '--disable-logging', '--need-app', '--die-on-term', '--listen', '128'],
  });
}

const BACKENDS: Backend[] = [
  { name: 'fastcgi tsgi processPool=2', vars: 'TSGI_FCGI', command: tsgi('fastcgi') },
  { name: 'fastcgi uwsgi processes=2', vars: 'UWSGI_FCGI', command: uwsgi('--fastcgi-socket') },
  { name: 'scgi tsgi processPool=2', vars: 'TSGI_SCGI', command: tsgi('scgi') },
  { name: 'scgi uwsgi processes=2', vars: 'UWSGI_SCGI', command: uwsgi('--scgi-socket') },
  // One process, no pool: tells the pool's share of the SCGI figure from the SCGI front's.
  { name: 'scgi tsgi single', vars: 'TSGI_SCGI_SINGLE', command: tsgi('scgi', false) },
];

/** CPU seconds of a process and every process below it. */
function treeCpu(pid: number): number {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) pids.push(...childPids(pids[i]));
  return pids.reduce((sum, p) => sum + (cpuSecondsOf(p) ?? 0), 0);
}

/** Unmeasured load (JIT warm-up, nginx's upstream connections opened), bounded in time. */
function wrk(url: string, seconds: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-t1', '-c32', `-d${seconds}s`, url], { timeout: (seconds + 30) * 1000 }, (err) => (err ? reject(err) : resolve()));
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '-' : Math.round(n).toLocaleString('en-US'));

if (findBinary('uwsgi') === undefined) throw new Error('uwsgi is not installed: apt-get install -y uwsgi uwsgi-plugin-python3');
const dir = tempDir('bench-uwsgi');
const daemons: Daemon[] = [];
let nginx: BenchNginx | undefined;
try {
  const vars: Record<string, string | number> = { KEEP_CONN };
  const nginxPorts: number[] = [];
  const pidOf = new Map<string, number>();
  for (const b of BACKENDS) {
    const port = await freePort();
    const { command, args } = b.command(port, dir);
    const d = await Daemon.start({ name: b.name, command, args, ports: [port], cwd: dir, startLimitMs: 60_000 });
    daemons.push(d);
    pidOf.set(b.name, d.child.pid!);
    vars[`${b.vars}_UPSTREAM`] = `127.0.0.1:${port}`;
    vars[`${b.vars}_PORT`] = await freePort();
    nginxPorts.push(Number(vars[`${b.vars}_PORT`]));
  }
  nginx = await startNginx('uwsgi.conf', vars, nginxPorts);
  for (const b of BACKENDS) {
    const url = `http://127.0.0.1:${vars[`${b.vars}_PORT`]}/`;
    const res = await fetch(url);
    const text = await res.text();
    if (res.status !== 200 || text !== HELLO) throw new Error(`${b.name}: GET ${url} gave ${res.status} ${JSON.stringify(text.slice(0, 200))}\n${nginx.diagnostics()}`);
  }

  // Backend CPU per round: measure() reports each round on a progress line right after it.
  const cpu = new Map<string, number[]>(BACKENDS.map((b) => [b.name, []]));
  const last = new Map<string, number>(BACKENDS.map((b) => [b.name, treeCpu(pidOf.get(b.name)!)]));
  const byLongestName = [...BACKENDS].sort((x, y) => y.name.length - x.name.length);
  const progress = (line: string): void => {
    process.stderr.write(line + '\n');
    const m = /^round \d+\/\d+  (.*)$/.exec(line);
    const b = m === null ? undefined : byLongestName.find((x) => m[1].startsWith(x.name + ' '));
    if (b === undefined) return;
    const now = treeCpu(pidOf.get(b.name)!);
    cpu.get(b.name)!.push(now - last.get(b.name)!);
    last.set(b.name, now);
  };
  // Warm-up here, not inside measure(), so that its CPU is not counted in the first round.
  const warm = Number(process.env.BENCH_WARMUP ?? '1');
  for (const b of BACKENDS) if (warm > 0) await wrk(`http://127.0.0.1:${vars[`${b.vars}_PORT`]}/`, warm);
  for (const b of BACKENDS) last.set(b.name, treeCpu(pidOf.get(b.name)!));
  const servers: BenchServer[] = BACKENDS.map((b) => ({
    name: b.name,
    start: async () => ({ url: `http://127.0.0.1:${vars[`${b.vars}_PORT`]}`, stop: async () => {} }),
  }));
  console.log(`uptime before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const results = await measure(servers, { progress, warmupSec: 0 });
  console.log(`uptime after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const perCpu = (r: BenchResult): number | undefined => {
    const c = cpu.get(r.name)!;
    if (c.length !== r.runs.length || c.some((x) => x <= 0)) return undefined;
    return median(r.runs.map((run, i) => run.requests / c[i]));
  };
  console.log('');
  console.log(`nginx -> backend (fastcgi_keep_conn ${KEEP_CONN})`);
  for (const r of results) {
    console.log(`  ${r.name.padEnd(28)} ${fmt(r.medianRps).padStart(8)} req/s  (${r.runs.map((x) => fmt(x.rps)).join(' / ')})  ${fmt(perCpu(r)).padStart(7)} req/cpu-s (backend tree)  errors ${r.errors}`);
  }
  const get = (name: string): BenchResult => results.find((r) => r.name === name)!;
  for (const proto of ['fastcgi', 'scgi']) {
    const t = get(`${proto} tsgi processPool=2`);
    const u = get(`${proto} uwsgi processes=2`);
    const cpuRatio = perCpu(t) !== undefined && perCpu(u) !== undefined ? `${(perCpu(t)! / perCpu(u)!).toFixed(2)}x` : '-';
    console.log(`  ${proto} tsgi / uwsgi: req/s ${(t.medianRps / u.medianRps).toFixed(2)}x, req/cpu-s ${cpuRatio}`);
  }
  const single = get('scgi tsgi single');
  const pool = get('scgi tsgi processPool=2');
  console.log(`  scgi tsgi processPool=2 / single: req/s ${(pool.medianRps / single.medianRps).toFixed(2)}x`);
  if (results.some((r) => r.errors > 0)) {
    console.error('some responses were errors: the figures are not comparable');
    process.exitCode = 1;
  }
} finally {
  await nginx?.stop();
  for (const d of daemons) await d.stop();
  removeDir(dir);
}
