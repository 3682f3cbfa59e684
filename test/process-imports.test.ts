/**
 * What a worker process imports at start-up (a forked child starts per connection, so this is on the path of
 * its first request), read from the compiled modules' static imports: the worker entry and its front, never
 * serve.ts, the thread pool, the metrics code or prom-client (those are imported lazily when used). And the
 * import cycle between serve.ts and threads/run-mode.ts: importing mode.js first works.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { DIST, reachable } from './support/import-walk.js';

const dist = DIST;
const walk = (entries: string[]): Set<string> => reachable(entries, { dynamic: false });

const HEAVY = ['gateway/serve.js', 'gateway/listeners.js', 'gateway/threads/thread-pool.js', 'gateway/metrics/metered.js', 'prom-client', 'fastify'];

describe('worker process start-up imports', () => {
  it('a FastCGI worker imports neither serve.ts, the thread pool, the metrics, prom-client nor fastify', () => {
    const mods = walk(['gateway/process/worker-main.js', 'gateway/fronts/fastcgi.js']);
    expect(mods.has('adapters/fastcgi/server.js')).to.equal(true, 'the walk follows imports');
    for (const heavy of HEAVY) expect(mods.has(heavy)).to.equal(false, `${heavy} is imported`);
  });

  it('an HTTP worker imports fastify (its front) and still none of the rest', () => {
    const mods = walk(['gateway/process/worker-main.js', 'gateway/fronts/http.js']);
    expect(mods.has('fastify')).to.equal(true);
    for (const heavy of HEAVY.filter((h) => h !== 'fastify')) expect(mods.has(heavy)).to.equal(false, `${heavy} is imported`);
  });

  it('the metrics modules do not import prom-client until a registry is built', () => {
    expect(walk(['gateway/metrics/index.js']).has('prom-client')).to.equal(false);
  });

  it('gateway/threads/run-mode.js can be imported before gateway/serve.js (no initialization cycle)', () => {
    const url = (p: string): string => pathToFileURL(path.join(dist, p)).href;
    const code = `await import(${JSON.stringify(url('gateway/threads/run-mode.js'))}); const s = await import(${JSON.stringify(url('gateway/serve.js'))}); if (typeof s.MODES.threadPool !== 'function') process.exit(3);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
  });
});
