/**
 * Start-up cost of a worker process (processPool / forking), measured in one run:
 *
 * 1. import time of the worker entry's modules in a fresh Node (what every forked child pays), next to the
 *    import time of gateway/serve.js for comparison;
 * 2. fork -> ready of a forking child serving examples/hello (the child imports, loads the app, opens the
 *    front and says `ready`), sequentially, median and min;
 * 3. the forking = 1 new-connection rate: the real `tsgi` command with examples/hello, loaded by
 *    `wrk -t1 -c4 -d10s -H 'Connection: close'` (every request a new connection, so a new process).
 *
 *     npm run build && node dist/bench/process-start.js     # BENCH_ONLY=imports,fork,wrk picks some
 *
 * Absolute numbers depend on the machine and its load (the 2-core test machine is shared): compare the
 * figures of one run, or runs made back to back.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../gateway/config/load.js';
import { parseAppSpec } from '../gateway/app-loader.js';
import { WorkerSlot } from '../gateway/process/worker-slot.js';
import type { WorkerPlan } from '../gateway/process/plan.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const HELLO = here('../examples/hello/app.js');
const CLI = here('../gateway/cli.js');
const only = (process.env.BENCH_ONLY ?? 'imports,fork,wrk').split(',');
const N = Number(process.env.BENCH_STARTS ?? '15');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const ms = (x: number): string => `${x.toFixed(1)} ms`;

/** Import `modules` in a fresh node, `N` times; median of the import time. */
function importTime(modules: string[]): number {
  const code = `const t0 = performance.now(); for (const m of ${JSON.stringify(modules)}) await import(m); process.stdout.write(String(performance.now() - t0));`;
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`import of ${modules.join(', ')} failed: ${r.stderr}`);
    times.push(Number(r.stdout));
  }
  return median(times);
}

if (only.includes('imports')) {
  console.log('\n## import time in a fresh node (median of %d)\n', N);
  const worker = here('../gateway/process/worker.js');
  const rows: Array<[string, string[]]> = [
    ['gateway/process/worker.js', [worker]],
    // The front a worker opens is imported lazily (since the lazy front table): worker + its front.
    ['worker.js + fronts/http.js (an HTTP worker)', [worker, here('../gateway/fronts/http.js')]],
    ['worker.js + fronts/fastcgi.js (a FastCGI worker)', [worker, here('../gateway/fronts/fastcgi.js')]],
    ['gateway/serve.js', [here('../gateway/serve.js')]],
    ['adapters/http/server.js (fastify)', [here('../adapters/http/server.js')]],
    ['prom-client', ['prom-client']],
  ];
  for (const [name, mods] of rows) {
    // Older builds lack some modules: skip those rows rather than fail.
    if (mods.some((m) => m.startsWith('/') && !existsSync(m))) continue;
    console.log(`${name.padEnd(52)} ${ms(importTime(mods))}`);
  }
}

if (only.includes('fork')) {
  console.log(`\n## fork -> ready of a forking child (examples/hello, ${N} per protocol, interleaved)\n`);
  const protocols = ['http', 'fastcgi'] as const;
  const times = new Map<string, number[]>(protocols.map((p) => [p, []]));
  const failed = new Set<string>();
  for (let i = 0; i < N; i++) {
    for (const protocol of protocols) {
      if (failed.has(protocol)) continue;
      const config = loadConfig(undefined);
      config.server.protocol = protocol;
      const plan: WorkerPlan = {
        mode: 'fork',
        config: JSON.parse(JSON.stringify(config)) as WorkerPlan['config'],
        app: parseAppSpec(HELLO),
        cwd: process.cwd(),
        graceMs: 1000,
        timeoutMs: 0,
        maxRequests: 0,
        maxRequestsJitter: 0,
      };
      const t0 = performance.now();
      const slot = new WorkerSlot(plan);
      try {
        await slot.ready;
        times.get(protocol)!.push(performance.now() - t0);
      } catch {
        failed.add(protocol); // a build whose workers cannot serve this protocol
      }
      await slot.drain('signal', 0);
    }
  }
  for (const [protocol, t] of times) {
    console.log(`${protocol.padEnd(8)} ${t.length === 0 ? 'not available in this build' : `median ${ms(median(t))}, min ${ms(Math.min(...t))}`}`);
  }
}

if (only.includes('wrk')) {
  const proc = spawn(process.execPath, [CLI, HELLO, '--bind', '127.0.0.1:0', '--forking', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = / on (http:\/\/\S+)/.exec(stderr);
      if (m !== null) resolve(m[1]);
    });
    proc.once('exit', () => reject(new Error(`tsgi exited: ${stderr}`)));
  });
  console.log('\n## forking = 1, wrk -t1 -c4 -d10s -H "Connection: close" (a new process per connection)\n');
  // wrk's default 2 s timeout closes a connection whose child is still booting on a loaded machine, which
  // wastes that child: the run with --timeout 10s shows the rate without that feedback.
  for (const extra of [[], ['--timeout', '10s']]) {
    const r = spawnSync('wrk', ['-t1', '-c4', '-d10s', ...extra, '-H', 'Connection: close', url + '/'], { encoding: 'utf8' });
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1];
    const errors = /Socket errors:.*|Non-2xx.*/.exec(r.stdout)?.[0] ?? 'none';
    console.log(`${(extra.join(' ') || 'default timeout').padEnd(16)} ${rps ?? '?'} new connections/s (errors: ${errors})`);
  }
  proc.kill('SIGTERM');
}
