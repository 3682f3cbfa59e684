/**
 * Executable entry scripts for the fronts that start our process themselves (CGI, mod_fcgid, lighttpd
 * bin-path): a two-line /bin/sh wrapper that runs node on a compiled entry of bin/, written into the
 * suite's run dir so the web server's user can execute it.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/test/integration/bin, where the compiled entries are. */
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin');

/** Write `<dir>/<name>` that execs node on dist/test/integration/bin/<entry>.js; returns its path. */
export function writeEntry(dir: string, name: string, entry: 'cgi' | 'fcgi-fd0', env: Record<string, string> = {}): string {
  const file = join(dir, name);
  const exports = Object.entries(env).map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'\n`).join('');
  writeFileSync(file, `#!/bin/sh\n${exports}exec '${process.execPath}' '${join(BIN, entry + '.js')}' "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

/** examples/cgi/app.cgi, the CGI entry users copy, and the module it should serve (TSGI_APP). */
export function cgiEntry(): { script: string; dir: string; app: string } {
  const dir = resolve(BIN, '..', '..', '..', '..', 'examples', 'cgi');
  return { script: join(dir, 'app.cgi'), dir, app: join(BIN, 'app.js') };
}
