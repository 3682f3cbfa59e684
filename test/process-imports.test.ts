/**
 * What a worker process imports at start-up (a forked child starts per connection, so this is on the path of
 * its first request), read from the compiled modules' static imports: the worker entry and its front, never
 * serve.ts, the thread pool, the metrics code or prom-client (those are imported lazily when used). And the
 * import cycle between serve.ts and threads/run-mode.ts: importing mode.js first works.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Static imports (`import ... from`, `export ... from`, `import '...'`) of a compiled module; dynamic import() is not followed. */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"];?/gm)) out.push(m[1]);
  return out;
}

/** Every module reachable by static imports from `entries`: dist-relative paths, and bare package names. */
function reachable(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = entries.map((e) => path.join(dist, e));
  while (todo.length > 0) {
    const file = todo.pop()!;
    const rel = path.relative(dist, file);
    if (seen.has(rel)) continue;
    seen.add(rel);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) todo.push(path.resolve(path.dirname(file), spec));
      else if (!spec.startsWith('node:')) seen.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  }
  return seen;
}

const HEAVY = ['gateway/serve.js', 'gateway/listeners.js', 'gateway/threads/thread-pool.js', 'gateway/metrics/metered.js', 'prom-client', 'fastify'];

describe('worker process start-up imports', () => {
  it('a FastCGI worker imports neither serve.ts, the thread pool, the metrics, prom-client nor fastify', () => {
    const mods = reachable(['gateway/process/worker-main.js', 'gateway/fronts/fastcgi.js']);
    expect(mods.has('adapters/fastcgi/server.js')).to.equal(true, 'the walk follows imports');
    for (const heavy of HEAVY) expect(mods.has(heavy)).to.equal(false, `${heavy} is imported`);
  });

  it('an HTTP worker imports fastify (its front) and still none of the rest', () => {
    const mods = reachable(['gateway/process/worker-main.js', 'gateway/fronts/http.js']);
    expect(mods.has('fastify')).to.equal(true);
    for (const heavy of HEAVY.filter((h) => h !== 'fastify')) expect(mods.has(heavy)).to.equal(false, `${heavy} is imported`);
  });

  it('the metrics modules do not import prom-client until a registry is built', () => {
    expect(reachable(['gateway/metrics/index.js']).has('prom-client')).to.equal(false);
  });

  it('gateway/threads/run-mode.js can be imported before gateway/serve.js (no initialization cycle)', () => {
    const url = (p: string): string => pathToFileURL(path.join(dist, p)).href;
    const code = `await import(${JSON.stringify(url('gateway/threads/run-mode.js'))}); const s = await import(${JSON.stringify(url('gateway/serve.js'))}); if (typeof s.MODES.threadPool !== 'function') process.exit(3);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
  });
});
