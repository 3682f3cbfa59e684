/**
 * The snippets in this folder are `tsgi check` output: `<ini>.<front>.conf` for each INI file here and each
 * front that can serve it. `npm run deploy:snippets` writes them again; test/check-render.test.ts fails
 * when a file differs from what tsgi check prints now.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderApache } from '../../../gateway/check/apache.js';
import { renderCheck } from '../../../gateway/check/command.js';
import { FRONT_NAMES } from '../../../gateway/check/types.js';

/** This folder in the source tree (the compiled file runs from dist/examples/deploy/check/). */
export const EXAMPLES_DIR = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../examples/deploy/check');

/** Every generated file of the folder: name and text. */
export function renderExamples(dir = EXAMPLES_DIR): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const ini of readdirSync(dir).filter((f) => f.endsWith('.cfg')).sort()) {
    for (const front of FRONT_NAMES) {
      const r = renderCheck(path.join(dir, ini), front);
      if (r.front.cannotServe(r.target) !== undefined) continue;
      // Debian's module directory, not this machine's: the files must not depend on where they were made.
      const text = front === 'apache' ? renderApache(r.target, '/usr/lib/apache2/modules') : r.snippet;
      out.push({ file: `${ini.replace(/\.cfg$/, '')}.${front}.conf`, text });
    }
  }
  return out;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for (const { file, text } of renderExamples()) {
    writeFileSync(path.join(EXAMPLES_DIR, file), text);
    process.stdout.write(`wrote examples/deploy/check/${file}\n`);
  }
}
