#!/usr/bin/env node
// Build dist/adapters/cgi/bundle.cjs: the CGI runtime (dist/adapters/cgi/main.js and the core modules it
// imports) as ONE CommonJS file, which examples/cgi/app.cgi require()s.
//
// Why: a CGI request is a whole Node process, and the budget is 1.5x the wall time of `node -e ''`.
// Loading the runtime as 14 ES modules costs ~25 ms on the 2-core box (the ESM loader resolves, reads and
// links every file, and pulls in fs/promises and the stream modules to do it); one CommonJS file costs ~1 ms.
// Measured with hyperfine in BENCHMARKS.md ("CGI start-up").
//
// Run by `npm run build` after tsc (it bundles tsc's output, so there is one compiler and one set of
// sources). Writes the metafile next to it: test/cgi-bundle.test.ts checks that the bundle is newer than
// every file it was made from, so a stale bundle fails the tests instead of serving old code.
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'adapters', 'cgi', 'bundle.cjs');

const result = await build({
  entryPoints: [join(root, 'dist', 'adapters', 'cgi', 'main.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile,
  absWorkingDir: root, // metafile paths relative to the repo, whatever the cwd
  // Node built-ins stay require()s; nothing from node_modules is on the CGI path (esbuild would inline it).
  packages: 'external',
  // import.meta does not exist in CommonJS: the modules use import.meta.url only for createRequire().
  define: { 'import.meta.url': '__tsgi_bundle_url' },
  banner: { js: "'use strict';\nconst __tsgi_bundle_url = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  sourcemap: false,
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(outfile.replace(/\.cjs$/, '.meta.json'), JSON.stringify(result.metafile));
