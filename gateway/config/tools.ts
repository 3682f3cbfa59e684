/**
 * The tool part of a config file, CherryPy style: `[/]`, `[/static]`, `[/admin]` sections holding
 * `tools.NAME.on = 1` and `tools.NAME.OPTION = value`, and `log.screen`, `log.access_file`, `log.error_file`
 * under `[global]` (or `[server]`). Names and values are checked against the tool registry (TOOLS) here, so
 * a typo is a TSGI_ERR_CONFIG naming the file, the line, the key and the nearest name, before anything
 * starts.
 *
 * Path config is inherited as CherryPy's: a request is handled by the longest section path that is a
 * prefix of its PATH_INFO (by whole segments), and that section's keys are laid over those of every shorter
 * section path above it, key by key. So `[/] tools.sessions.on = 1` reaches `/static/x` unless `[/static]`
 * says `tools.sessions.on = 0`, and `[/static] tools.sessions.timeout = 5` changes only the timeout there.
 */
import path from 'node:path';
import { TOOLS, toolByName, type ToolDef, type ToolOptionSpec } from '../../app-api/tools/index.js';
import { BadValue, parseBoolean } from './values.js';
import { configError } from './resolve.js';
import { displayPath } from './source.js';
import { nearest } from './suggest.js';

export type { RawToolKey, PathTool, PathTools, LogSettings, ToolsConfig } from './tools-types.js';
import { pathCovers, type RawToolKey, type PathTool, type PathTools, type LogSettings, type ToolsConfig } from './tools-types.js';

export { pathCovers };

/** `log.*` keys: name -> type. */
export const LOG_KEYS = {
  'log.screen': { type: 'boolean', doc: 'Also print access-log lines on stdout.' },
  'log.access_file': { type: 'path', doc: 'Append an access log in Apache combined format to this file (reopened on SIGUSR1).' },
  'log.error_file': { type: 'path', doc: "The error log (the gateway's errors with stack traces and what the app writes to tsgi.errors) goes to this file, as errorLog; reopened on SIGUSR1." },
} as const satisfies Record<string, { type: 'boolean' | 'path'; doc: string }>;

/** True for `[/...]` section names. */
export function isPathSection(section: string): boolean {
  return section.startsWith('/');
}

/** `/static/` -> `/static`, `/` stays. */
function normalize(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t === '' ? '/' : t;
}


function parseValue(spec: Pick<ToolOptionSpec, 'type' | 'choices'>, raw: string, baseDir: string): unknown {
  const t = raw.trim();
  switch (spec.type) {
    case 'boolean':
      return parseBoolean(t);
    case 'integer':
      if (!/^[+-]?\d+$/.test(t) || !Number.isSafeInteger(Number(t))) throw new BadValue(`must be an integer, got ${JSON.stringify(raw)}`);
      return Number(t);
    case 'number':
      if (t === '' || !Number.isFinite(Number(t))) throw new BadValue(`must be a number, got ${JSON.stringify(raw)}`);
      return Number(t);
    case 'path':
      if (t.includes('\0')) throw new BadValue('must be a file path without NUL');
      return t === '' ? '' : path.resolve(baseDir, t);
    case 'list':
      return t.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'string':
      if (spec.choices !== undefined && !spec.choices.includes(t)) throw new BadValue(`must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(raw)}`);
      return t;
  }
}

/**
 * Check and resolve the tool keys of `file`. `sectionLines` gives each `[/path]` header's line, so a section
 * without keys still counts (it inherits its parents' tools).
 */
export function resolveTools(file: string, keys: readonly RawToolKey[], sectionLines: ReadonlyMap<string, number>): ToolsConfig | undefined {
  const baseDir = path.dirname(file);
  const where = (k: RawToolKey): string => `${displayPath(file)} line ${k.line}`;
  // A key's value parsed by its spec; a bad one is a config error naming the file, the line and the key.
  const keyValue = (spec: Pick<ToolOptionSpec, 'type' | 'choices'>, k: RawToolKey, baseDir: string): unknown => {
    try {
      return parseValue(spec, k.value, baseDir);
    } catch (err) {
      if (err instanceof BadValue) throw configError(where(k), `${k.key} ${err.message}; write ${k.key} that way, or remove it to use the default`);
      throw err;
    }
  };
  const log: LogSettings = { screen: false };
  // path -> tool -> option -> value (as parsed), in file order.
  const own = new Map<string, Map<string, Map<string, { value: unknown; line: number }>>>();
  for (const [name] of sectionLines) if (isPathSection(name)) own.set(normalize(name), new Map());

  for (const k of keys) {
    if (!isPathSection(k.section)) {
      const spec = LOG_KEYS[k.key as keyof typeof LOG_KEYS];
      if (spec === undefined) {
        const n = nearest(k.key, Object.keys(LOG_KEYS));
        throw configError(where(k), `unknown key ${k.key} in [${k.section}]; ${n !== undefined ? `did you mean ${n}?` : `the log keys are ${Object.keys(LOG_KEYS).join(', ')}`}`);
      }
      const value = keyValue(spec, k, baseDir);
      if (k.key === 'log.screen') log.screen = value as boolean;
      else if (k.key === 'log.access_file') log.accessFile = value as string;
      else log.errorFile = value as string;
      continue;
    }
    const m = /^tools\.([^.]+)\.([^.]+)$/.exec(k.key);
    if (m === null) {
      const fix = k.key.startsWith('log.') ? 'log.* keys go under [global]' : 'write tools.NAME.on = 1 or tools.NAME.OPTION = value (tsgi --help lists the tools)';
      throw configError(where(k), `${k.key} in [${k.section}]: a path section holds tool keys only; ${fix}`);
    }
    const [, name, option] = m;
    const tool = toolByName(name);
    if (tool === undefined) {
      const n = nearest(name, TOOLS.map((t) => t.name));
      throw configError(where(k), `unknown tool ${name} in ${k.key}; ${n !== undefined ? `did you mean tools.${n}.${option}?` : `the tools are ${TOOLS.map((t) => t.name).join(', ')}`}`);
    }
    const spec: Pick<ToolOptionSpec, 'type' | 'choices'> | undefined = option === 'on' ? { type: 'boolean' } : Object.hasOwn(tool.options, option) ? tool.options[option] : undefined;
    if (spec === undefined) {
      const n = nearest(option, ['on', ...Object.keys(tool.options)]);
      throw configError(where(k), `unknown option ${option} of tool ${name} in ${k.key}; ${n !== undefined ? `did you mean tools.${name}.${n}?` : `its options are on, ${Object.keys(tool.options).join(', ')}`}`);
    }
    const value = keyValue(spec, k, baseDir);
    const section = normalize(k.section);
    const tools = own.get(section) ?? new Map();
    own.set(section, tools);
    const opts = tools.get(name) ?? new Map();
    tools.set(name, opts);
    opts.set(option, { value, line: k.line });
  }

  if (own.size === 0 && log.accessFile === undefined && log.errorFile === undefined && !log.screen) return undefined;
  const paths = [...own.keys()].sort((a, b) => b.length - a.length).map((p) => resolvePath(p, own, file, sectionLines));
  return { file, baseDir, paths, log };
}

function resolvePath(p: string, own: Map<string, Map<string, Map<string, { value: unknown; line: number }>>>, file: string, sectionLines: ReadonlyMap<string, number>): PathTools {
  // Parents first, so the longer path's keys win.
  const chain = [...own.keys()].filter((q) => pathCovers(q, p)).sort((a, b) => a.length - b.length);
  const line = sectionLines.get(p) ?? sectionLines.get(p + '/') ?? sectionLines.get(p === '/' ? '/' : p) ?? 0;
  const tools: PathTool[] = [];
  for (const tool of TOOLS) {
    const merged = new Map<string, unknown>();
    for (const q of chain) for (const [o, v] of own.get(q)?.get(tool.name) ?? []) merged.set(o, v.value);
    if (merged.get('on') !== true) continue;
    tools.push({ name: tool.name, options: optionsOf(tool, merged, p, file, line) });
  }
  return { path: p, line, tools };
}

function optionsOf(tool: ToolDef, merged: Map<string, unknown>, p: string, file: string, line: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(tool.options)) {
    if (merged.has(name)) out[name] = merged.get(name);
    else if (spec.default !== undefined) out[name] = spec.default;
    else throw configError(`${displayPath(file)} line ${line}`, `tools.${tool.name}.on = 1 for [${p}] needs tools.${tool.name}.${name} (${spec.doc}); add it to the section`);
  }
  return out;
}
