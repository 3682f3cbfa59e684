/**
 * What a session costs per request, for each store: the same app (read a counter from the session, write
 * it back) through inject(), with sessions in memory, in files and in a real redis-server on a free
 * loopback port, against the app without sessions, in one run. Each request carries the cookie, so each
 * one locks, loads, saves and unlocks its session. Prints microseconds per request and the added cost.
 *
 *     npm run build && node dist/bench/sessions.js        # ~10 s; BENCH_SESSION_REQUESTS (default 2000)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { inject } from '../gateway/core/inject.js';
import type { App } from '../app-api/types.js';
import { closeSessionStores, sessions, type SessionOptions } from '../app-api/tools/index.js';

const N = Number(process.env.BENCH_SESSION_REQUESTS ?? '2000');

const app: App = (environ, startResponse) => {
  const s = (environ['tsgi.session'] ?? {}) as Record<string, unknown>;
  s.n = Number(s.n ?? 0) + 1;
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [String(s.n)];
};

async function perRequestUs(wrapped: App): Promise<number> {
  const first = await inject(wrapped, '/');
  const cookie = /session_id=([^;]*)/.exec(first.headers['set-cookie'] ?? '')?.[1];
  const headers: Record<string, string> = cookie !== undefined ? { cookie: `session_id=${cookie}` } : {};
  for (let i = 0; i < 200; i++) await inject(wrapped, { url: '/', headers }); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await inject(wrapped, { url: '/', headers });
  return ((performance.now() - t0) * 1000) / N;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-bench-sessions-'));
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  try {
    const stores: [string, Partial<SessionOptions> | null][] = [
      ['no sessions', null],
      ['memory', { storage_type: 'memory' }],
      ['file', { storage_type: 'file', storage_path: path.join(dir, 'store') }],
      ['redis', { storage_type: 'redis', redis_url: `redis://127.0.0.1:${port}` }],
    ];
    const results: [string, number][] = [];
    for (const [name, opts] of stores) results.push([name, await perRequestUs(opts === null ? app : sessions(app, opts))]);
    const base = results[0][1];
    console.log(`session store round trip, ${N} requests each through inject(), one session (lock + load + save + unlock per request)`);
    for (const [name, us] of results) console.log(`${name.padEnd(12)} ${us.toFixed(1).padStart(8)} us/request${name === 'no sessions' ? '' : `   +${(us - base).toFixed(1)} us for the session (${(us / base).toFixed(2)}x)`}`);
  } finally {
    await closeSessionStores();
    redis.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
