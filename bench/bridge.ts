/**
 * `npm run bench:bridge`: express 5 and Hono hello world, each served four ways, measured in one run:
 *
 *   native            the framework's own server (express's listen; @hono/node-server)
 *   tsgi inline       tsgi's built-in server, single mode, through fromNode / fromFetch
 *   nginx proxy_pass  nginx -> the framework's own server (upstream keep-alive)
 *   nginx FastCGI     nginx -> tsgi's FastCGI front (fastcgi_keep_conn), single mode
 *
 * Goals: tsgi inline >= 0.9x native; nginx -> tsgi FastCGI >= nginx -> proxy_pass. Load: measure() (wrk -t1
 * -c32, interleaved rounds, medians; BENCH_ROUNDS, BENCH_DURATION...). Every backend is its own Node process
 * (bench/servers/bridge-app.ts); one nginx with one worker serves the four nginx sites.
 *
 *     BENCH_ONLY=hono npm run bench:bridge             # one framework (express, hono)
 *     BENCH_PROFILE=/tmp/prof npm run bench:bridge     # --cpu-prof of the tsgi backends
 *     TSGI_BENCH_NODE=/path/to/node npm run bench:bridge   # every backend under another Node
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startChild, type Child } from '../test/support/child.js';
import { freePort } from '../test/integration/harness/ports.js';
import { measure, meetsGoal, pairedRatio, type BenchResult, type BenchServer } from './measure.js';
import { benchNode } from './node-binary.js';
import { startNginx, type BenchNginx } from './nginx.js';

const SCRIPT = fileURLToPath(new URL('./servers/bridge-app.js', import.meta.url));
const HELLO = 'Hello, world!\n';
const FRAMEWORKS = ['express', 'hono'] as const;
// Every backend is started (nginx's config names them all); BENCH_ONLY picks the frameworks measured.
const MEASURED = FRAMEWORKS.filter((fw) => process.env.BENCH_ONLY === undefined || process.env.BENCH_ONLY.split(',').includes(fw));
// BENCH_PROFILE=dir: a --cpu-prof of each tsgi backend (inline and FastCGI) is written there.
const profileArgs = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];

const children: Child<{ url: string }>[] = [];
async function backend(framework: string, how: string): Promise<{ url: string; pid: number | undefined }> {
  const child = await startChild<{ url: string }>(SCRIPT, [framework, how], 30_000, how === 'native' ? [] : profileArgs, benchNode);
  children.push(child);
  return { url: child.ready.url, pid: child.proc.pid };
}

async function main(): Promise<void> {
  let nginx: BenchNginx | undefined;
  try {
    const servers: BenchServer[] = [];
    const vars: Record<string, string | number> = {};
    const nginxPorts: number[] = [];
    const pending: Array<{ name: string; port: number; pid: number | undefined }> = [];
    for (const fw of FRAMEWORKS) {
      for (const how of ['native', 'inline']) {
        const b = await backend(fw, how);
        servers.push({ name: `${fw} ${how === 'native' ? 'native' : 'tsgi inline'}`, start: async () => ({ url: b.url, pid: b.pid, stop: async () => {} }) });
      }
      for (const [key, how] of [['PROXY', 'native'], ['FCGI', 'fastcgi']] as const) {
        const b = await backend(fw, how);
        const port = await freePort();
        vars[`${fw.toUpperCase()}_${key}_UPSTREAM`] = new URL(b.url).host;
        vars[`${fw.toUpperCase()}_${key}_PORT`] = port;
        nginxPorts.push(port);
        pending.push({ name: `${fw} nginx ${key === 'PROXY' ? 'proxy_pass' : 'FastCGI'}`, port, pid: b.pid });
      }
    }
    nginx = await startNginx('bridge.conf', vars, nginxPorts);
    for (const p of pending) servers.push({ name: p.name, start: async () => ({ url: `http://127.0.0.1:${p.port}`, pid: p.pid, stop: async () => {} }) });
    for (const s of servers) {
      const { url } = await s.start();
      const res = await fetch(url + '/');
      const text = await res.text();
      if (res.status !== 200 || text !== HELLO) throw new Error(`${s.name}: GET ${url}/ gave ${res.status} ${JSON.stringify(text.slice(0, 100))}`);
    }

    const results = await measure(servers.filter((s) => MEASURED.some((fw) => s.name.startsWith(fw + ' '))));
    const get = (name: string): BenchResult => results.find((r) => r.name === name)!;
    const fmt = (n: number | undefined): string => (n === undefined ? '-' : Math.round(n).toLocaleString('en-US'));
    console.log('');
    console.log(`${'server'.padEnd(26)} ${'req/s'.padStart(8)} ${'req/cpu-s'.padStart(10)}  rounds`);
    for (const r of results) console.log(`${r.name.padEnd(26)} ${fmt(r.medianRps).padStart(8)} ${fmt(r.medianReqPerCpuSec).padStart(10)}  ${r.runs.map((x) => fmt(x.rps)).join(' / ')}${r.errors > 0 ? `  (${r.errors} errors!)` : ''}`);
    console.log('');
    for (const fw of MEASURED) {
      const line = (label: string, a: BenchResult, b: BenchResult, goal: number): void => {
        // Judged on the paired figure (measure.ts meetsGoal); the medians' ratio beside it.
        const x = pairedRatio(a, b)!;
        const cpu = a.medianReqPerCpuSec !== undefined && b.medianReqPerCpuSec !== undefined ? `  backend cpu ${(a.medianReqPerCpuSec / b.medianReqPerCpuSec).toFixed(2)}x` : '';
        console.log(`${label.padEnd(44)} req/s ${x.paired.toFixed(2)}x paired (medians ${x.ofMedians.toFixed(2)}x)${cpu}  goal >= ${goal.toFixed(1)}x: ${meetsGoal(x, goal) ? 'met' : 'MISSED'}`);
      };
      line(`${fw}: tsgi inline / native`, get(`${fw} tsgi inline`), get(`${fw} native`), 0.9);
      line(`${fw}: nginx->tsgi FastCGI / nginx->proxy_pass`, get(`${fw} nginx FastCGI`), get(`${fw} nginx proxy_pass`), 1.0);
    }
    console.log(`\nload average (1/5/15 min): ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    if (results.some((r) => r.errors > 0)) process.exitCode = 1;
  } finally {
    await nginx?.stop();
    await Promise.all(children.map((c) => c.stop()));
  }
}

await main();
