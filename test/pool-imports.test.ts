/**
 * What a pool thread loads: its entry (gateway/threads/worker-main.ts) and, when a config feature is on,
 * gateway/features.ts; never serve.ts, the listeners, the adapters or fastify (a thread serves requests the
 * main thread parsed). Read from the compiled modules' static imports; the features table is the one module
 * the thread imports dynamically, so it is walked as a second entry.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Static and dynamic string imports of a compiled module. */
function imports(file: string): { staticOnes: string[]; dynamic: string[] } {
  const text = readFileSync(file, 'utf8');
  const staticOnes = [...text.matchAll(/^(?:import|export)\s+(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"];?/gm)].map((m) => m[1]);
  const dynamic = [...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
  return { staticOnes, dynamic };
}

/** Every module reachable from `entries` by static and literal dynamic imports: dist-relative paths and package names. */
function reachable(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = entries.map((e) => path.join(dist, e));
  while (todo.length > 0) {
    const file = todo.pop()!;
    const rel = path.relative(dist, file);
    if (seen.has(rel)) continue;
    seen.add(rel);
    const { staticOnes, dynamic } = imports(file);
    for (const spec of [...staticOnes, ...dynamic]) {
      if (spec.startsWith('.')) todo.push(path.resolve(path.dirname(file), spec));
      else if (!spec.startsWith('node:')) seen.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  }
  return seen;
}

describe('pool thread imports', () => {
  it('a pool thread (with every feature on) loads neither serve.ts, the listeners, an adapter nor fastify', () => {
    const mods = reachable(['gateway/threads/worker-main.js']);
    expect(mods.has('gateway/features.js'), 'the walk follows the features import').to.equal(true);
    expect(mods.has('app-api/xmlrpc/xmlrpc.js'), 'and the middleware behind it').to.equal(true);
    for (const heavy of ['gateway/serve.js', 'gateway/listeners.js', 'gateway/threads/thread-pool.js', 'fastify']) expect(mods.has(heavy)).to.equal(false, `${heavy} is imported`);
    expect([...mods].filter((m) => m.startsWith('adapters/'))).to.deep.equal([]);
  });

  it('run-mode.ts does not import serve.ts at run time (its import of it is for types only)', () => {
    const { staticOnes, dynamic } = imports(path.join(dist, 'gateway/threads/run-mode.js'));
    expect([...staticOnes, ...dynamic].filter((s) => s.endsWith('serve.js'))).to.deep.equal([]);
  });
});
