/**
 * `npm run bench:static`: the static-files and gzip tools, measured in one run.
 *
 * 1. A 1 MiB file: tsgi's staticDir on the built-in server (single mode: the HTTP sink reads the file into
 *    reused buffers, adapters/http/send-file.ts) against nginx (1 worker, sendfile on) serving the same file
 *    from the same folder.
 *    Goal: tsgi >= 0.5x nginx's req/s.
 * 2. The gzip cost: a 20 KiB text/plain response, without the gzip tool and with it (the client sends
 *    Accept-Encoding: gzip, so every response is compressed at level 5).
 * Load: measure() (wrk -t1 -c32 -d5s, 3 interleaved rounds, medians; BENCH_* settings of bench/measure.ts).
 *
 *     npm run bench:static
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, type Child } from '../test/support/child.js';
import { freePort } from '../test/integration/harness/ports.js';
import { measure, type BenchResult, type BenchServer } from './measure.js';
import { startNginx, type BenchNginx } from './nginx.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const SERVER = here('./servers/tsgi-tools.js');
const MIB = 1024 * 1024;

function child(name: string, args: string[]): BenchServer & { child?: Child<{ url: string }> } {
  const s: BenchServer & { child?: Child<{ url: string }> } = {
    name,
    async start() {
      s.child = await startChild<{ url: string }>(SERVER, args, 30_000);
      return { url: s.child.ready.url, pid: s.child.proc.pid, stop: () => s.child!.stop() };
    },
  };
  return s;
}

async function checkBytes(url: string, want: Buffer, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(url, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200 || !body.equals(want)) throw new Error(`${url}: status ${res.status}, ${body.length} bytes: not the file`);
}

const fmt = (r: BenchResult): string => `${r.name.padEnd(28)} ${r.medianRps.toFixed(0).padStart(8)} req/s`;

const dir = mkdtempSync(join(tmpdir(), 'tsgi-bench-static-'));
let nginx: BenchNginx | undefined;
try {
  const file = randomBytes(MIB);
  writeFileSync(join(dir, 'file.bin'), file);
  const port = await freePort();
  nginx = await startNginx('static.conf', { PORT: port, DIR: dir }, [port]);
  const nginxUrl = `http://127.0.0.1:${port}`;
  const tsgi = child('tsgi staticDir', ['static', dir]);
  const nginxServer: BenchServer = { name: 'nginx static', start: async () => ({ url: nginxUrl, pid: nginx!.workerPid, stop: async () => {} }) };

  console.log(`uptime before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const statics = await measure(
    [
      {
        name: tsgi.name,
        async start() {
          const s = await tsgi.start();
          await checkBytes(`${s.url}/file.bin`, file);
          return s;
        },
      },
      {
        name: nginxServer.name,
        async start() {
          const s = await nginxServer.start();
          await checkBytes(`${nginxUrl}/file.bin`, file);
          return s;
        },
      },
    ],
    { path: '/file.bin' },
  );
  const gz = await measure([child('20 KiB text', ['text']), child('20 KiB text, gzip tool', ['text-gzip'])], { path: '/', headers: { 'Accept-Encoding': 'gzip' } });
  console.log(`uptime after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('');
  console.log('1 MiB file:');
  for (const r of statics) console.log('  ' + fmt(r) + `  (${((r.medianRps * MIB) / 1e9).toFixed(2)} GB/s)`);
  console.log(`  tsgi / nginx = ${(statics[0].medianRps / statics[1].medianRps).toFixed(2)}x (goal >= 0.5x)`);
  console.log('gzip cost, 20 KiB text/plain:');
  for (const r of gz) console.log('  ' + fmt(r));
  console.log(`  with gzip / without = ${(gz[1].medianRps / gz[0].medianRps).toFixed(2)}x`);
} finally {
  await nginx?.stop();
  rmSync(dir, { recursive: true, force: true });
}
