/**
 * The benchmark runner other benchmarks reuse: start each server, load it with wrk (autocannon when wrk is
 * missing) in interleaved rounds (every server once per round, so drift on a shared machine hits them all
 * alike), and report the median requests/s and ratios measured in the same run.
 *
 *     const results = await measure([tsgiServer, fastifyServer], { rounds: 3, durationSec: 5 });
 *     console.log(formatResults(results, ['fastify raw']));
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startChild } from '../test/support/child.js';
import { benchNode, benchNodeDescription } from './node-binary.js';

/** A server under load: `start()` brings it up and says where to send requests. */
export interface BenchServer {
  name: string;
  /** `pid`: the process serving, when there is one to watch: its CPU time per request is reported too. */
  start(): Promise<{ url: string; stop(): Promise<void>; pid?: number; headers?: Record<string, string> }>;
}

/** Load settings. Defaults come from BENCH_* environment variables, then these values. */
export interface MeasureOptions {
  /** Interleaved rounds; the median is reported. BENCH_ROUNDS, default 3. */
  rounds?: number;
  /** Seconds of load per server per round. BENCH_DURATION, default 5. */
  durationSec?: number;
  /** Seconds of unmeasured load per server before the first round (JIT warm-up). BENCH_WARMUP, default 1. */
  warmupSec?: number;
  /** Open connections. BENCH_CONNECTIONS, default 32. */
  connections?: number;
  /** wrk threads. BENCH_THREADS, default 1. */
  threads?: number;
  /** Path requested, default '/'. */
  path?: string;
  /** Request headers sent with every request (`Accept-Encoding: gzip` for the gzip cost). */
  headers?: Record<string, string>;
  /** 'wrk' | 'autocannon'; default wrk when installed. BENCH_TOOL. */
  tool?: 'wrk' | 'autocannon';
  /** Progress lines (default: to stderr). */
  progress?: (line: string) => void;
}

/** One load run. */
export interface LoadRun {
  rps: number;
  /** Requests completed in the run. */
  requests: number;
  /**
   * Requests per second of server CPU time (user + system of `pid`): unlike req/s this barely moves when
   * other work competes for the cores, so it is the steadier figure on a shared machine.
   */
  reqPerCpuSec?: number;
  /** Non-2xx/3xx responses plus socket errors: a server that fails fast must not look fast. */
  errors: number;
}

/** What measure() found for one server. */
export interface BenchResult {
  name: string;
  url: string;
  runs: LoadRun[];
  /** Median requests/s over the rounds. */
  medianRps: number;
  /** Median requests per CPU-second of the server process, when its pid is known. */
  medianReqPerCpuSec?: number;
  errors: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat (Linux); undefined elsewhere. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), counted after "pid (comm)": indexes 11 and 12. Clock ticks of 1/100 s on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${v}: give a positive number`);
  return n;
}

/** True when the wrk binary runs here. */
export function haveWrk(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function runWrk(url: string, seconds: number, connections: number, threads: number, headers: Record<string, string> = {}): Promise<LoadRun> {
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', ...Object.entries(headers).flatMap(([n, v]) => ['-H', `${n}: ${v}`]), url];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (seconds + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`wrk ${args.join(' ')} failed: ${err.message}`));
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
      const requests = /(\d+) requests in/.exec(stdout);
      if (rps === null || requests === null) return reject(new Error(`cannot read wrk output:\n${stdout}`));
      const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      const errors = (non2xx ? Number(non2xx[1]) : 0) + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
      resolve({ rps: Number(rps[1]), requests: Number(requests[1]), errors });
    });
  });
}

async function runAutocannon(url: string, seconds: number, connections: number, headers: Record<string, string> = {}): Promise<LoadRun> {
  const name = 'autocannon'; // a variable: autocannon ships no types, and it is only loaded when wrk is missing
  const { default: autocannon } = (await import(name)) as unknown as {
    default: (opts: object) => Promise<{ requests: { average: number; total: number }; non2xx: number; errors: number; timeouts: number }>;
  };
  const r = await autocannon({ url, connections, duration: seconds, headers });
  return { rps: r.requests.average, requests: r.requests.total, errors: r.non2xx + r.errors + r.timeouts };
}

/** Measure every server; servers are started first and stopped at the end, even on failure. */
export async function measure(servers: BenchServer[], opts: MeasureOptions = {}): Promise<BenchResult[]> {
  const rounds = opts.rounds ?? envNumber('BENCH_ROUNDS', 3);
  const duration = opts.durationSec ?? envNumber('BENCH_DURATION', 5);
  const warmup = opts.warmupSec ?? envNumber('BENCH_WARMUP', 1);
  const connections = opts.connections ?? envNumber('BENCH_CONNECTIONS', 32);
  const threads = opts.threads ?? envNumber('BENCH_THREADS', 1);
  const tool = opts.tool ?? (process.env.BENCH_TOOL as 'wrk' | 'autocannon' | undefined) ?? (haveWrk() ? 'wrk' : 'autocannon');
  const progress = opts.progress ?? ((line: string) => process.stderr.write(line + '\n'));
  const load = (url: string, seconds: number, headers?: Record<string, string>): Promise<LoadRun> =>
    tool === 'wrk' ? runWrk(url, seconds, connections, threads, headers ?? opts.headers) : runAutocannon(url, seconds, connections, headers ?? opts.headers);

  const started: Array<{ server: BenchServer; url: string; pid?: number; headers?: Record<string, string>; stop(): Promise<void>; runs: LoadRun[] }> = [];
  try {
    for (const server of servers) {
      const s = await server.start();
      const url = s.url.replace(/\/$/, '') + (opts.path ?? '/');
      started.push({ server, url, pid: s.pid, headers: s.headers, stop: s.stop, runs: [] });
    }
    progress(`servers on Node ${benchNodeDescription()}`);
    progress(`load: ${tool}, ${connections} connections${tool === 'wrk' ? `, ${threads} thread(s)` : ''}, ${duration} s x ${rounds} rounds, ${warmup} s warm-up`);
    for (const s of started) if (warmup > 0) await load(s.url, warmup, s.headers);
    for (let round = 1; round <= rounds; round++) {
      // Rotate the order each round so no server always runs first (or right after a given other one).
      const order = started.map((_, i) => started[(i + round - 1) % started.length]);
      for (const s of order) {
        const cpu0 = s.pid === undefined ? undefined : cpuSecondsOf(s.pid);
        const run = await load(s.url, duration, s.headers);
        const cpu1 = s.pid === undefined ? undefined : cpuSecondsOf(s.pid);
        if (cpu0 !== undefined && cpu1 !== undefined && cpu1 > cpu0) run.reqPerCpuSec = run.requests / (cpu1 - cpu0);
        s.runs.push(run);
        const perCpu = run.reqPerCpuSec === undefined ? '' : `  ${run.reqPerCpuSec.toFixed(0).padStart(8)} req/cpu-s`;
        progress(`round ${round}/${rounds}  ${s.server.name.padEnd(24)} ${run.rps.toFixed(0).padStart(8)} req/s${perCpu}${run.errors > 0 ? `  (${run.errors} errors)` : ''}`);
      }
    }
  } finally {
    await Promise.all(started.map((s) => s.stop().catch(() => {})));
  }
  return started.map((s) => ({
    name: s.server.name,
    url: s.url,
    runs: s.runs,
    medianRps: median(s.runs.map((r) => r.rps)),
    medianReqPerCpuSec: s.runs.every((r) => r.reqPerCpuSec !== undefined) ? median(s.runs.map((r) => r.reqPerCpuSec!)) : undefined,
    errors: s.runs.reduce((a, r) => a + r.errors, 0),
  }));
}

/** Two servers of one run compared: see pairedRatio. */
export interface Comparison {
  /** The median of the per-round ratios: what a goal is judged on. */
  paired: number;
  /** The ratio of the two medians (what the tables show). */
  ofMedians: number;
  /** Each round's ratio, in round order. */
  rounds: number[];
}

/**
 * `a / b` over one run, paired by round. A round runs every server back to back, so a slow spell of the
 * machine (here the same unchanged server moved 2x within a minute) weighs on both sides of that round's
 * ratio: the median of the per-round ratios moves less than the ratio of the two medians, whose rounds may
 * come from different spells. `pick`: the figure compared (default req/s; req/cpu-s for CPU efficiency).
 */
export function pairedRatio(a: BenchResult, b: BenchResult, pick: (run: LoadRun) => number | undefined = (run) => run.rps): Comparison | undefined {
  const rounds: number[] = [];
  for (let i = 0; i < Math.min(a.runs.length, b.runs.length); i++) {
    const x = pick(a.runs[i]);
    const y = pick(b.runs[i]);
    if (x === undefined || y === undefined || y === 0) return undefined;
    rounds.push(x / y);
  }
  if (rounds.length === 0) return undefined;
  const ma = median(a.runs.map(pick) as number[]);
  const mb = median(b.runs.map(pick) as number[]);
  return { paired: median(rounds), ofMedians: ma / mb, rounds };
}

/**
 * Whether a comparison meets a goal: the one rule every bench judges by (the paired figure). `atMost`: the
 * goal is an upper bound.
 */
export function meetsGoal(c: Comparison, goal: number, atMost = false): boolean {
  return atMost ? c.paired <= goal : c.paired >= goal;
}

/**
 * One goal line: `label: 0.97x paired (medians 0.95x; rounds 0.93 0.97 1.01)  goal >= 1.0x: met`. `atMost`:
 * the goal is an upper bound (a cost).
 */
export function goalLine(label: string, c: Comparison | undefined, goal: number, atMost = false): string {
  if (c === undefined) return `${label}: -`;
  const met = meetsGoal(c, goal, atMost);
  return `${label}: ${c.paired.toFixed(2)}x paired (medians ${c.ofMedians.toFixed(2)}x; rounds ${c.rounds.map((r) => r.toFixed(2)).join(' ')})  goal ${atMost ? '<=' : '>='} ${goal}x: ${met ? 'met' : 'MISSED'}`;
}

/** A BenchServer run as `node script args...` in its own process; the script prints `{"url": ...}` when ready. */
export function childServer(name: string, script: string, args: string[] = [], nodeArgs: string[] = []): BenchServer {
  return {
    name,
    async start() {
      const child = await startChild<{ url: string }>(script, args, 30_000, nodeArgs, benchNode);
      return { url: child.ready.url, stop: () => child.stop(), pid: child.proc.pid };
    },
  };
}

/** A text table: median req/s and req/cpu-s, the rounds, and the ratios to each baseline (by name). */
export function formatResults(results: BenchResult[], baselines: string[] = []): string {
  const base = baselines.map((b) => results.find((r) => r.name === b)).filter((r): r is BenchResult => r !== undefined);
  const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '-' : `${(a / b).toFixed(2)}x`);
  const rows: string[][] = [
    ['server', 'req/s', 'req/cpu-s', 'req/s rounds', ...base.flatMap((b) => [`req/s vs ${b.name}`, `cpu vs ${b.name}`])],
    ...results.map((r) => [
      r.name,
      r.medianRps.toFixed(0),
      r.medianReqPerCpuSec === undefined ? '-' : r.medianReqPerCpuSec.toFixed(0),
      r.runs.map((x) => x.rps.toFixed(0)).join(' / '),
      ...base.flatMap((b) => [ratio(r.medianRps, b.medianRps), ratio(r.medianReqPerCpuSec, b.medianReqPerCpuSec)]),
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows
    .map((row, j) => row.map((cell, i) => (i === 0 || i === 3 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ') + (j > 0 && results[j - 1].errors > 0 ? `  (${results[j - 1].errors} errors!)` : ''))
    .join('\n');
}

/** Wait helper for child scripts: resolves on SIGTERM/SIGINT. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}

/** Print the ready line the parent waits for. */
export function ready(url: string): void {
  process.stdout.write(JSON.stringify({ url }) + '\n');
}

