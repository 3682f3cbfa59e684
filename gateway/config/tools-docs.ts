/**
 * The tool keys for `tsgi --help` and the README, generated from the registry (TOOLS) and LOG_KEYS, so the
 * docs list exactly what the config reader accepts.
 */
import { TOOLS, type ToolOptionSpec } from '../../app-api/tools/index.js';
import { LOG_KEYS } from './tools.js';

function typeText(spec: Pick<ToolOptionSpec, 'type' | 'choices'>): string {
  return spec.choices !== undefined ? spec.choices.join(' \\| ') : spec.type;
}

function defaultText(spec: Pick<ToolOptionSpec, 'default'>): string {
  if (spec.default === undefined) return 'required';
  if (spec.default === '') return "''";
  return Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
}

/** Every tool key: `[key, type, default, doc]`, `log.*` first, then each tool's `on` and options. */
export function toolKeys(): [string, string, string, string][] {
  const rows: [string, string, string, string][] = [];
  for (const [key, spec] of Object.entries(LOG_KEYS)) rows.push([key, spec.type, key === 'log.screen' ? 'false' : 'none', spec.doc]);
  for (const t of TOOLS) {
    rows.push([`tools.${t.name}.on`, 'boolean', 'false', t.doc]);
    for (const [name, spec] of Object.entries(t.options)) rows.push([`tools.${t.name}.${name}`, typeText(spec), defaultText(spec), spec.doc]);
  }
  return rows;
}

/** The README region: a Markdown table of every key. */
export function renderToolReference(): string {
  const cell = (s: string): string => s.replace(/\|(?!\s)/g, '\\|').replace(/\n/g, ' ');
  return [
    '`log.*` keys go under `[global]` (or `[server]`); `tools.*` keys under a path section (`[/]`, `[/static]`): the longest section path covering the request path wins, and inherits the keys of the shorter ones above it (`tools.NAME.on = 0` switches a tool off below).',
    '',
    '| key | type | default | what it does |',
    '|---|---|---|---|',
    ...toolKeys().map(([k, type, def, doc]) => `| \`${k}\` | ${type} | ${cell(def)} | ${cell(doc)} |`),
  ].join('\n');
}

/** The `tsgi --help` lines. */
export function toolHelpLines(): string[] {
  return toolKeys().map(([k, type, def, doc]) => `  ${k} (${type.replace(/\\\|/g, '|')}, default ${def}): ${doc}`);
}
