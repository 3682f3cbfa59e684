/**
 * Render the deploy templates of examples/deploy/. A template is the config a user copies, with
 * `{{NAME}}` placeholders for what differs between machines (ports, paths); the tests fill them with temp
 * dirs and free ports and then run the result, so the shipped configs are the tested ones.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is dist/test/integration/harness/template.js when compiled). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The folder of the deploy templates. */
export const DEPLOY_DIR = join(REPO_ROOT, 'examples', 'deploy');

/** Fill `{{NAME}}` placeholders; an unknown placeholder is an error, so a template never ships half-filled. */
export function render(text: string, vars: Record<string, string | number>, what = 'template'): string {
  return text.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`${what}: no value for {{${name}}}`);
    return String(v);
  });
}

/** Render examples/deploy/<rel>. */
export function renderDeploy(rel: string, vars: Record<string, string | number>): string {
  return render(readFileSync(join(DEPLOY_DIR, rel), 'utf8'), vars, rel);
}
