/**
 * `npm run soak`: mixed traffic (two GETs, then one 4 KiB POST; bench/soak-wrk.lua) against
 * examples/echo-environ on every front at once, for a bounded time, and a report per front and mode:
 * requests, errors by kind (wrk's connect/read/write errors, timeouts, non-2xx), p99 and worst latency,
 * and the server's RSS and open fds (its processes summed, from /proc) after warm-up and at the end.
 *
 * Fronts: HTTP single, threadPool=2 and processPool=2 (the tsgi command, straight from wrk); FastCGI and
 * SCGI (the tsgi command, single) behind one real nginx; and a control that is not tsgi (raw node:http
 * answering hello), so stalls it shares are the machine's. Each driven by its own `wrk -t1 -c8 --timeout 2s`.
 *
 *     npm run soak                                   # 60 s after a 5 s warm-up
 *     SOAK_SECONDS=600 npm run soak                  # longer
 *     SOAK_FRONTS=http-single,fastcgi npm run soak   # some fronts only (keys: first column of the report)
 *     SOAK_CONNECTIONS=8 SOAK_TIMEOUT=2              # per wrk (defaults)
 *     TSGI_BENCH_NODE=/path/to/node npm run soak     # servers under another Node binary
 *
 * Everything stays on loopback; every process it starts is stopped at the end.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/integration/harness/ports.js';
import { REPO_ROOT } from '../test/integration/harness/template.js';
import { rssOf, startChild } from '../test/support/child.js';
import { haveWrk } from './measure.js';
import { childPids, startNginx, type BenchNginx } from './nginx.js';
import { benchNode, benchNodeDescription } from './node-binary.js';

const CLI = fileURLToPath(new URL('../gateway/cli.js', import.meta.url));
const APP = fileURLToPath(new URL('../examples/echo-environ/app.js', import.meta.url));
const LUA = path.join(REPO_ROOT, 'bench', 'soak-wrk.lua');
const CONTROL = fileURLToPath(new URL('./servers/node-http-raw.js', import.meta.url));
const SECONDS = Number(process.env.SOAK_SECONDS ?? '60');
const WARMUP = Number(process.env.SOAK_WARMUP ?? '5');
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? '8');
const TIMEOUT = Number(process.env.SOAK_TIMEOUT ?? '2');
const START_LINE = /serving .* on [a-z]+:\/\/([^\s]+?:\d+)/;

interface FrontSpec {
  key: string;
  /** 'control': raw node:http (bench/servers/node-http-raw.js), not tsgi: its stalls are the machine's. */
  protocol: 'http' | 'fastcgi' | 'scgi' | 'control';
  server: Record<string, string | number>;
}
const FRONTS: FrontSpec[] = [
  { key: 'http-single', protocol: 'http', server: {} },
  { key: 'http-threadPool=2', protocol: 'http', server: { threadPool: 2 } },
  { key: 'http-processPool=2', protocol: 'http', server: { processPool: 2 } },
  { key: 'fastcgi', protocol: 'fastcgi', server: {} },
  { key: 'scgi', protocol: 'scgi', server: {} },
  { key: 'control-node-http-raw', protocol: 'control', server: {} },
];

/** The tsgi command serving echo-environ. */
interface Backend {
  spec: FrontSpec;
  proc: ChildProcess;
  /** host:port it listens on. */
  address: string;
  stderr: string;
  /** host:port wrk loads (the backend itself, or nginx in front of it). */
  target?: string;
}

async function startBackend(spec: FrontSpec, dir: string): Promise<Backend> {
  if (spec.protocol === 'control') {
    const child = await startChild<{ url: string }>(CONTROL, [], 30_000, [], benchNode);
    return { spec, proc: child.proc, address: new URL(child.ready.url).host, stderr: '' };
  }
  const cfg = path.join(dir, `${spec.key}.cfg`);
  const lines = ['[server]', 'socketPort = 0', `protocol = ${spec.protocol}`, ...Object.entries(spec.server).map(([k, v]) => `${k} = ${v}`)];
  writeFileSync(cfg, lines.join('\n') + '\n');
  const proc = spawn(benchNode, [CLI, APP, '-C', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  const b: Backend = { spec, proc, address: '', stderr: '' };
  proc.stderr!.on('data', (c: Buffer) => {
    b.stderr += c.toString();
    if (b.stderr.length > 200_000) b.stderr = b.stderr.slice(-100_000);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.key}: no start line within 30 s: ${b.stderr}`)), 30_000);
    const check = (): void => {
      const m = START_LINE.exec(b.stderr);
      if (m === null) return;
      clearTimeout(timer);
      proc.stderr!.off('data', check);
      b.address = m[1];
      resolve();
    };
    proc.stderr!.on('data', check);
    proc.once('exit', (code) => reject(new Error(`${spec.key}: exited with ${code}: ${b.stderr}`)));
  });
  return b;
}

async function stopBackend(b: Backend): Promise<void> {
  if (b.proc.exitCode !== null || b.proc.signalCode !== null) return;
  const exited = new Promise((r) => b.proc.once('exit', r));
  b.proc.kill('SIGTERM');
  const kill = setTimeout(() => b.proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(kill);
}

/** RSS (MiB) and open fds of a process and every process below it. */
function footprint(pid: number): { rssMiB: number; fds: number; processes: number } {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) pids.push(...childPids(pids[i]));
  let rss = 0;
  let fds = 0;
  for (const p of pids) {
    try {
      rss += rssOf(p);
      fds += readdirSync(`/proc/${p}/fd`).length;
    } catch {
      /* exited meanwhile */
    }
  }
  return { rssMiB: rss / 1024 / 1024, fds, processes: pids.length };
}

/** What one wrk run reported. */
interface WrkReport {
  requests: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  non2xx: number;
  p99Ms: number;
  maxMs: number;
}

function ms(value: string, unit: string): number {
  const v = Number(value);
  return unit === 'us' ? v / 1000 : unit === 'ms' ? v : unit === 's' ? v * 1000 : unit === 'm' ? v * 60_000 : v;
}

function runWrk(target: string, seconds: number): Promise<WrkReport> {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, `--timeout`, `${TIMEOUT}s`, '--latency', '-s', LUA, `http://${target}/`];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (seconds + 60) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`wrk ${args.join(' ')}: ${err.message}\n${stdout}`));
      const num = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? 0);
      const latency = /Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(\w+)/.exec(stdout);
      const p99 = /99%\s+([\d.]+)(\w+)/.exec(stdout);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      resolve({
        requests: num(/(\d+) requests in/),
        connect: Number(sock?.[1] ?? 0),
        read: Number(sock?.[2] ?? 0),
        write: Number(sock?.[3] ?? 0),
        timeout: Number(sock?.[4] ?? 0),
        non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/),
        p99Ms: p99 === null ? NaN : ms(p99[1], p99[2]),
        maxMs: latency === null ? NaN : ms(latency[1], latency[2]),
      });
    });
  });
}

/**
 * A process that serves nothing and only measures how late its 50 ms timer fires: if it also sees
 * multi-second gaps, the machine (CPU contention) stalled everyone, not tsgi. It prints its figures on
 * SIGTERM.
 */
const PROBE = `
let last = performance.now(), worst = 0, over500 = 0, over2000 = 0;
setInterval(() => {
  const now = performance.now(), late = now - last - 50;
  last = now;
  if (late > worst) worst = late;
  if (late > 500) over500++;
  if (late > 2000) over2000++;
}, 50);
process.on('SIGTERM', () => { process.stdout.write(JSON.stringify({ worst, over500, over2000 })); process.exit(0); });
`;

function startProbe(): { stop(): Promise<{ worst: number; over500: number; over2000: number }> } {
  const proc = spawn(benchNode, ['-e', PROBE], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise((r) => proc.once('exit', r));
  return {
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      return JSON.parse(out || '{"worst":NaN,"over500":0,"over2000":0}');
    },
  };
}

/** Microseconds some task waited for a CPU (Linux PSI, /proc/pressure/cpu), if the kernel has it. */
function cpuPressureUs(): number | undefined {
  try {
    return Number(/some .*total=(\d+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

if (!haveWrk()) {
  console.error('wrk is not installed (apt-get install wrk): the soak needs it');
  process.exit(2);
}
const only = process.env.SOAK_FRONTS?.split(',').filter((s) => s !== '');
const fronts = FRONTS.filter((f) => only === undefined || only.includes(f.key));
const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-soak-'));
const backends: Backend[] = [];
let nginx: BenchNginx | undefined;
let failed = false;
try {
  for (const spec of fronts) backends.push(await startBackend(spec, dir));
  const behind = backends.filter((b) => b.spec.protocol === 'fastcgi' || b.spec.protocol === 'scgi');
  if (behind.length > 0) {
    const vars: Record<string, string | number> = {};
    const ports: number[] = [];
    for (const proto of ['fastcgi', 'scgi'] as const) {
      const prefix = proto === 'fastcgi' ? 'FCGI' : 'SCGI';
      const b = behind.find((x) => x.spec.protocol === proto);
      const port = await freePort();
      vars[`${prefix}_UPSTREAM`] = b?.address ?? `127.0.0.1:${await freePort()}`;
      vars[`${prefix}_PORT`] = port;
      if (b !== undefined) {
        b.target = `127.0.0.1:${port}`;
        ports.push(port);
      }
    }
    nginx = await startNginx('soak.conf', vars, ports);
  }
  for (const b of backends) b.target ??= b.address;

  console.log(`soak: servers on Node ${benchNodeDescription()}; wrk -t1 -c${CONNECTIONS} --timeout ${TIMEOUT}s on each front at once, ${WARMUP} s warm-up + ${SECONDS} s`);
  console.log(`load before: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')} (${(await import('node:os')).cpus().length} CPUs)`);
  if (WARMUP > 0) await Promise.all(backends.map((b) => runWrk(b.target!, WARMUP)));
  const warm = backends.map((b) => footprint(b.proc.pid!));
  const probe = startProbe();
  const psi0 = cpuPressureUs();
  const reports = await Promise.all(backends.map((b) => runWrk(b.target!, SECONDS)));
  const psi1 = cpuPressureUs();
  const probed = await probe.stop();
  const end = backends.map((b) => footprint(b.proc.pid!));
  const pressure = psi0 === undefined || psi1 === undefined ? 'unknown' : `${((psi1 - psi0) / 1e4 / SECONDS).toFixed(0)}%`;
  console.log(`idle probe (a process serving nothing): worst timer lateness ${probed.worst.toFixed(0)} ms, ${probed.over500} times > 500 ms, ${probed.over2000} times > 2 s`);
  console.log(`CPU pressure (share of the time some task waited for a CPU, /proc/pressure/cpu): ${pressure}`);
  console.log(`load after: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);

  const rows: string[][] = [['front', 'requests', 'req/s', `>${TIMEOUT} s (timeouts)`, 'read err', 'conn err', 'write err', 'non-2xx', 'p99 ms', 'max ms', 'RSS MiB warm/end', 'fds warm/end']];
  backends.forEach((b, i) => {
    const r = reports[i];
    rows.push([
      b.spec.key,
      String(r.requests),
      (r.requests / SECONDS).toFixed(0),
      String(r.timeout),
      String(r.read),
      String(r.connect),
      String(r.write),
      String(r.non2xx),
      r.p99Ms.toFixed(1),
      // wrk keeps no latency above its --timeout: a timed-out request is only counted.
      r.timeout > 0 ? `>${TIMEOUT * 1000}` : r.maxMs.toFixed(1),
      `${warm[i].rssMiB.toFixed(1)}/${end[i].rssMiB.toFixed(1)}`,
      `${warm[i].fds}/${end[i].fds}`,
    ]);
    if (r.connect + r.read + r.write + r.non2xx > 0) failed = true;
  });
  console.log(table(rows));
  for (const b of backends) {
    const warnings = b.stderr.split('\n').filter((l) => /warn|error/i.test(l));
    if (warnings.length > 0) console.log(`\n${b.spec.key} logged ${warnings.length} warning/error lines, the last: ${warnings.slice(-3).join(' | ')}`);
  }
  if (nginx !== undefined) {
    const log = nginx.diagnostics().split('\n').filter((l) => /\[(error|warn|crit|alert)\]/.test(l));
    if (log.length > 0) console.log(`\nnginx logged ${log.length} error lines, the last: ${log.slice(-3).join(' | ')}`);
  }
} finally {
  await nginx?.stop().catch(() => {});
  await Promise.all(backends.map((b) => stopBackend(b).catch(() => {})));
  rmSync(dir, { recursive: true, force: true });
}
// Timeouts alone are reported, not failed on: on a shared machine they can be CPU contention (RELIABILITY.md).
if (failed) {
  console.error('\nresets, connect/write errors or non-2xx answers: see above');
  process.exitCode = 1;
}
