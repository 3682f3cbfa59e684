/**
 * What a compiled module loads, read from dist's import statements: used by the tests that pin what a worker
 * thread or process imports at start-up (a forked child's start-up is on the path of its first request).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled tree (dist/). */
export const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Static imports (`import ... from`, `export ... from`, `import '...'`) and literal dynamic `import('...')`s of a module. */
export function imports(file: string): { staticOnes: string[]; dynamic: string[] } {
  const text = readFileSync(file, 'utf8');
  const staticOnes = [...text.matchAll(/^(?:import|export)\s+(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"];?/gm)].map((m) => m[1]);
  const dynamic = [...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
  return { staticOnes, dynamic };
}

/**
 * Every module reachable from `entries` (dist-relative): dist-relative paths and bare package names.
 * `dynamic`: follow literal import('...') too (a module the entry loads later, when a feature is on).
 */
export function reachable(entries: string[], opts: { dynamic: boolean }): Set<string> {
  const seen = new Set<string>();
  const todo = entries.map((e) => path.join(DIST, e));
  while (todo.length > 0) {
    const file = todo.pop()!;
    const rel = path.relative(DIST, file);
    if (seen.has(rel)) continue;
    seen.add(rel);
    const { staticOnes, dynamic } = imports(file);
    for (const spec of opts.dynamic ? [...staticOnes, ...dynamic] : staticOnes) {
      if (spec.startsWith('.')) todo.push(path.resolve(path.dirname(file), spec));
      else if (!spec.startsWith('node:')) seen.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  }
  return seen;
}
