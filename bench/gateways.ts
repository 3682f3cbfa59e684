/**
 * `npm run bench:gateways`: tsgi's gateway fronts behind a real nginx, against the baselines of the issue,
 * measured in one run.
 *
 * 1. nginx (1 worker, access_log off) in front of five hello-world backends, each its own Node process:
 *      proxy_pass node:http    raw node:http, proxy_pass with upstream keepalive 32 (HTTP/1.1, Connection "")
 *      fastcgi tsgi            tsgi FastCGI front, single mode (bench/fastcgi-server.ts), fastcgi_keep_conn on
 *      fastcgi node-fastcgi    the npm package node-fastcgi, same nginx settings
 *      scgi tsgi               tsgi SCGI front, single mode (one connection per request: SCGI has no keep-alive)
 *      scgi floor              a bare net server that reads the SCGI request and writes a fixed response
 *    Load: measure() (wrk -t1 -c32 -d5s against nginx, interleaved rounds, medians). Reported per backend:
 *    req/s, backend req/cpu-s (requests per CPU-second of the backend process) and nginx req/cpu-s (of the
 *    nginx worker). Ratios: FastCGI / proxy_pass (goal >= 1.0x), FastCGI / node-fastcgi, SCGI / floor
 *    (goal >= 1.0x, issue 10; 0.8x before it).
 * 2. CGI: wall time per request of examples/cgi/app.cgi serving examples/hello (spawned with a CGI
 *    environment, stdin empty) against `node -e ''`, spawns interleaved, median and ratio (goal <= 1.5x);
 *    hyperfine's figures too when it is installed.
 *
 *     npm run bench:gateways
 *     BENCH_ONLY=proxy,tsgi-fcgi node dist/bench/gateways.js    # keys: proxy tsgi-fcgi node-fcgi tsgi-scgi floor cgi
 *     BENCH_PROFILE=/tmp/prof node dist/bench/gateways.js      # --cpu-prof of the tsgi FastCGI and SCGI backends and the SCGI floor
 *     BENCH_FCGI_BASELINE=/old/dist/bench/fastcgi-server.js    # also run another build's FastCGI backend (A/B)
 *     BENCH_CGI_RUNS=40                                        # CGI spawns per command (default 30)
 * plus the BENCH_* settings of bench/measure.ts (rounds, duration, connections...).
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, type Child } from '../test/support/child.js';
import { benchNode } from './node-binary.js';
import { freePort } from '../test/integration/harness/ports.js';
import { REPO_ROOT } from '../test/integration/harness/template.js';
import { cpuSecondsOf, haveWrk, measure, meetsGoal, pairedRatio, type BenchResult, type BenchServer } from './measure.js';
import { startNginx, type BenchNginx } from './nginx.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const only = process.env.BENCH_ONLY === undefined || process.env.BENCH_ONLY === '' ? undefined : process.env.BENCH_ONLY.split(',');
const wanted = (key: string): boolean => only === undefined || only.includes(key);
const profileDir = process.env.BENCH_PROFILE;
const profileArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
/** Another build's dist/bench/fastcgi-server.js: measured next to this one ("fastcgi tsgi-baseline"), for before/after. */
const baselineFcgi = process.env.BENCH_FCGI_BASELINE === '' ? undefined : process.env.BENCH_FCGI_BASELINE;

const HELLO = 'Hello, world!\n';

/** One backend behind nginx. `key` selects it in BENCH_ONLY; `vars` is its placeholder prefix in bench/nginx/gateways.conf. */
interface Backend {
  key: string;
  name: string;
  vars: string;
  script: string;
  nodeArgs?: string[];
}

const BACKENDS: Backend[] = [
  { key: 'proxy', name: 'proxy_pass node:http', vars: 'HTTP', script: here('./servers/node-http-raw.js') },
  {
    key: 'tsgi-fcgi',
    name: 'fastcgi tsgi',
    vars: 'TSGI_FCGI',
    script: here('./fastcgi-server.js'),
    nodeArgs: profileArgs,
  },
  ...(baselineFcgi === undefined ? [] : [{ key: 'tsgi-fcgi', name: 'fastcgi tsgi-baseline', vars: 'BASE_FCGI', script: baselineFcgi }]),
  { key: 'node-fcgi', name: 'fastcgi node-fastcgi', vars: 'NODE_FCGI', script: here('./servers/node-fastcgi-hello.js') },
  { key: 'tsgi-scgi', name: 'scgi tsgi', vars: 'TSGI_SCGI', script: here('./servers/tsgi-scgi.js'), nodeArgs: profileArgs },
  { key: 'floor', name: 'scgi floor', vars: 'SCGI_FLOOR', script: here('./servers/scgi-floor.js'), nodeArgs: profileArgs },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const fmt = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '-' : Math.round(n).toLocaleString('en-US'));
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '-' : `${(a / b).toFixed(2)}x`);

/** Unmeasured load (JIT warm-up, nginx's upstream connections opened) before the rounds. */
function warmUp(url: string, seconds: number): Promise<void> {
  if (!haveWrk()) return Promise.resolve(); // measure() falls back to autocannon; its own warm-up is then skipped too
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-t1', '-c32', `-d${seconds}s`, url], { timeout: (seconds + 30) * 1000 }, (err) => (err ? reject(err) : resolve()));
  });
}

/** One GET through nginx must be the hello bytes, or the figures would compare different work. */
async function check(name: string, url: string, nginx: BenchNginx): Promise<void> {
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200 || text !== HELLO) {
    throw new Error(`${name}: GET ${url} gave ${res.status} ${JSON.stringify(text.slice(0, 200))}, expected 200 ${JSON.stringify(HELLO)}\n${nginx.diagnostics()}`);
  }
}

async function benchGateways(): Promise<void> {
  const backends = BACKENDS.filter((b) => wanted(b.key));
  if (backends.length === 0) return;
  const children: Child<{ url: string }>[] = [];
  let nginx: BenchNginx | undefined;
  try {
    const vars: Record<string, string | number> = {};
    const pidOf = new Map<Backend, number | undefined>();
    const ports: number[] = [];
    for (const prefix of ['HTTP', 'TSGI_FCGI', 'BASE_FCGI', 'NODE_FCGI', 'TSGI_SCGI', 'SCGI_FLOOR']) {
      // Backends not selected still need their placeholders: they point at a port nothing listens on.
      const b = backends.find((x) => x.vars === prefix);
      let upstream = `127.0.0.1:${await freePort()}`;
      if (b !== undefined) {
        const child = await startChild<{ url: string }>(b.script, [], 30_000, b.nodeArgs ?? [], benchNode);
        children.push(child);
        pidOf.set(b, child.proc.pid);
        upstream = new URL(child.ready.url).host;
      }
      const port = await freePort();
      vars[`${prefix}_UPSTREAM`] = upstream;
      vars[`${prefix}_PORT`] = port;
      if (b !== undefined) ports.push(port);
    }
    nginx = await startNginx('gateways.conf', vars, ports);
    const n = nginx;
    if (n.workerPid === undefined) process.stderr.write('nginx worker process not found: no nginx CPU figures\n');
    for (const b of backends) await check(b.name, `http://127.0.0.1:${vars[`${b.vars}_PORT`]}/`, n);

    const warm = Number(process.env.BENCH_WARMUP ?? '1');
    for (const b of backends) if (warm > 0) await warmUp(`http://127.0.0.1:${vars[`${b.vars}_PORT`]}/`, warm);

    // nginx worker CPU per run: measure() reports each run on a progress line right after it, so the CPU the
    // worker used between two progress lines is that run's (warm-up is done above, not inside measure()).
    const nginxCpu = new Map<string, number[]>(backends.map((b) => [b.name, []]));
    let lastCpu = n.workerPid === undefined ? undefined : cpuSecondsOf(n.workerPid);
    const byLongestName = [...backends].sort((x, y) => y.name.length - x.name.length);
    const progress = (line: string): void => {
      process.stderr.write(line + '\n');
      if (n.workerPid === undefined) return;
      const cpu = cpuSecondsOf(n.workerPid);
      const m = /^round \d+\/\d+  (.*)$/.exec(line);
      const b = m === null ? undefined : byLongestName.find((x) => m[1].startsWith(x.name + ' '));
      if (b !== undefined && cpu !== undefined && lastCpu !== undefined) nginxCpu.get(b.name)!.push(cpu - lastCpu);
      lastCpu = cpu;
    };

    const servers: BenchServer[] = backends.map((b) => ({
      name: b.name,
      start: async () => ({ url: `http://127.0.0.1:${vars[`${b.vars}_PORT`]}`, pid: pidOf.get(b), stop: async () => {} }),
    }));
    const results = await measure(servers, { warmupSec: 0, progress });
    const nginxPerCpu = (r: BenchResult): number | undefined => {
      const cpu = nginxCpu.get(r.name)!;
      if (cpu.length !== r.runs.length || cpu.some((c) => c <= 0)) return undefined;
      return median(r.runs.map((run, i) => run.requests / cpu[i]));
    };

    console.log('');
    const rows = [
      ['nginx ->', 'req/s', 'req/s rounds', 'backend req/cpu-s', 'nginx req/cpu-s', 'errors'],
      ...results.map((r) => [r.name, fmt(r.medianRps), r.runs.map((x) => fmt(x.rps)).join(' / '), fmt(r.medianReqPerCpuSec), fmt(nginxPerCpu(r)), String(r.errors)]),
    ];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    console.log(rows.map((row) => row.map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n'));

    const get = (name: string): BenchResult | undefined => results.find((r) => r.name === name);
    const line = (label: string, a: BenchResult | undefined, b: BenchResult | undefined, goal?: number): void => {
      if (a === undefined || b === undefined) return;
      // Judged on the paired figure (measure.ts meetsGoal); the medians' ratio beside it.
      const paired = pairedRatio(a, b)!;
      const verdict = goal === undefined ? '' : `  goal >= ${goal.toFixed(1)}x: ${meetsGoal(paired, goal) ? 'met' : 'MISSED'}`;
      console.log(`${label.padEnd(34)} req/s ${paired.paired.toFixed(2)}x paired (medians ${ratio(a.medianRps, b.medianRps)})  backend cpu ${ratio(a.medianReqPerCpuSec, b.medianReqPerCpuSec)}  nginx cpu ${ratio(nginxPerCpu(a), nginxPerCpu(b))}${verdict}`);
    };
    console.log('');
    line('FastCGI tsgi / proxy_pass node:http', get('fastcgi tsgi'), get('proxy_pass node:http'), 1.0);
    line('FastCGI tsgi / tsgi baseline build', get('fastcgi tsgi'), get('fastcgi tsgi-baseline'));
    line('FastCGI tsgi / node-fastcgi', get('fastcgi tsgi'), get('fastcgi node-fastcgi'));
    line('SCGI tsgi / SCGI floor', get('scgi tsgi'), get('scgi floor'), 1.0); // issue 10 (was 0.8x)
    if (results.some((r) => r.errors > 0)) {
      console.error('some responses were errors: the figures are not comparable');
      process.exitCode = 1;
    }
  } finally {
    await nginx?.stop();
    await Promise.all(children.map((c) => c.stop()));
  }
}

// ---- CGI ----

/** The CGI environment of `GET /cgi-bin/app.cgi` as a web server passes it (plus PATH, for the #! line). */
function cgiEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '/cgi-bin/app.cgi',
    PATH_INFO: '',
    QUERY_STRING: '',
    REQUEST_URI: '/cgi-bin/app.cgi',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: 'bench',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '40000',
    HTTP_HOST: 'localhost',
    TSGI_APP: join(REPO_ROOT, 'dist', 'examples', 'hello', 'app.js'),
  };
}

/** Spawn once, stdin empty (/dev/null), stdout collected; resolves with the wall time in ms and the output. */
function timedSpawn(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('latin1')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, out, code }));
  });
}

async function benchCgi(): Promise<void> {
  const runs = Number(process.env.BENCH_CGI_RUNS ?? '30');
  const script = join(REPO_ROOT, 'examples', 'cgi', 'app.cgi');
  const env = cgiEnv();
  const first = await timedSpawn(script, [], env);
  if (!first.out.startsWith('Status: 200') || !first.out.endsWith(HELLO)) {
    throw new Error(`examples/cgi/app.cgi did not answer hello (exit ${first.code}):\n${first.out.slice(0, 500)}`);
  }
  await timedSpawn(process.execPath, ['-e', ''], env);
  const cgi: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first, so neither always follows the other.
    const pair = i % 2 === 0 ? ['cgi', 'bare'] : ['bare', 'cgi'];
    for (const which of pair) {
      if (which === 'cgi') cgi.push((await timedSpawn(script, [], env)).ms);
      else bare.push((await timedSpawn(process.execPath, ['-e', ''], env)).ms);
    }
  }
  const mc = median(cgi);
  const mb = median(bare);
  console.log('');
  console.log(`CGI, ${runs} spawns each, interleaved (wall ms, median / min):`);
  console.log(`  examples/cgi/app.cgi (hello)   ${mc.toFixed(1)} / ${Math.min(...cgi).toFixed(1)}`);
  console.log(`  node -e ''                     ${mb.toFixed(1)} / ${Math.min(...bare).toFixed(1)}`);
  console.log(`CGI app.cgi / node -e ''          ${(mc / mb).toFixed(2)}x  goal <= 1.5x: ${mc / mb <= 1.5 ? 'met' : 'MISSED'}`);

  // A second opinion from hyperfine, when installed (it runs each command's spawns back to back).
  if (spawnSync('hyperfine', ['--version'], { stdio: 'ignore' }).error !== undefined) return;
  const json = join(tmpdir(), `tsgi-bench-cgi-${process.pid}.json`);
  try {
    const r = spawnSync('hyperfine', ['-N', '--warmup', '3', '--runs', String(runs), '--export-json', json, '--style', 'none', script, `${process.execPath} -e ''`], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) return;
    const data = JSON.parse(readFileSync(json, 'utf8')) as { results: { command: string; median: number; min: number }[] };
    const [h1, h2] = data.results;
    console.log(`hyperfine -N --runs ${runs}: app.cgi ${(h1.median * 1000).toFixed(1)} ms, node -e '' ${(h2.median * 1000).toFixed(1)} ms (medians): ${(h1.median / h2.median).toFixed(2)}x`);
  } finally {
    rmSync(json, { force: true });
  }
}

const [l1, l5] = loadavg();
console.log(`${new Date().toISOString()}  load average ${l1.toFixed(2)} (1 min) ${l5.toFixed(2)} (5 min)`);
await benchGateways();
if (wanted('cgi')) await benchCgi();
