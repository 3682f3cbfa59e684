/**
 * Reading a config file. The `ini` package parses the values (quotes, `;`/`#` comments, escapes) but forgets
 * where they were, so this file also scans the raw text with ini's own line grammar to know the line of
 * every section and key. Everything an operator can get wrong is refused with the file, the line, the
 * option and the fix: unknown sections and options (with the nearest known name), keys outside a section,
 * a key given twice, a key without a value, lists (`key[] =`), a process-wide option in a `[server:NAME]`
 * listener section, and bad values (in resolve.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ini from 'ini';
import { LISTENER_SECTION_RE, OPTIONS, OPTION_BY_NAME } from './options.js';
import { configError, resolveConfig, type CliSettings, type Config, type FileSettings, type ListenerSettings, type Setting } from './resolve.js';
import { displayPath } from './source.js';
import { didYouMean, nearest } from './suggest.js';
import { isPathSection, resolveTools, type RawToolKey } from './tools.js';

/** The sections a config file may have (besides any number of `[server:NAME]` listener sections). */
export const SECTIONS = ['server', 'app'] as const;

/** True for `[server]` and `[server:NAME]`: the sections that hold options of the table. */
function isServerSection(section: string): boolean {
  return section === 'server' || LISTENER_SECTION_RE.test(section);
}

interface ScannedKey {
  section: string | null;
  key: string;
  line: number;
  hasValue: boolean;
  /** The value as written (for tool keys, which ini may nest under dotted section names). */
  value: string;
}

// ini 5's grammar for one line (lib/ini.js decode): a `[section]` header, or `key`, or `key = value`.
const LINE_RE = /^\[([^\]]*)\]\s*$|^([^=]+)(=(.*))?$/;

/** Every section header and key with its 1-based line number, as ini will read them. */
function scan(text: string, file: string): { sections: Map<string, number>; keys: ScannedKey[] } {
  const sections = new Map<string, number>();
  const keys: ScannedKey[] = [];
  let section: string | null = null;
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '' || /^\s*[;#]/.test(line) || /^\s*$/.test(line)) continue;
    const m = LINE_RE.exec(line);
    if (m === null) continue;
    if (m[1] !== undefined) {
      section = ini.unsafe(m[1]);
      if (!sections.has(section)) sections.set(section, i + 1);
      continue;
    }
    const key = ini.unsafe(m[2]);
    if (key.startsWith('[')) {
      throw configError(`${displayPath(file)} line ${i + 1}`, `${JSON.stringify(line.trim())} is not a section header; write it as [server] or [app] alone on the line`);
    }
    keys.push({ section, key, line: i + 1, hasValue: m[3] !== undefined, value: ini.unsafe(m[4] ?? '') });
  }
  return { sections, keys };
}

/** CherryPy writes `server.socket_port` under [global]; tsgi's name for it, when there is one. */
function cherryPyToTsgi(key: string): string | undefined {
  const special: Record<string, string> = { 'server.ssl_private_key': 'sslKeyFile', 'server.ssl_certificate': 'sslCertificateFile', 'server.reverse_dns': 'reverseDNS' };
  if (special[key] !== undefined) return special[key];
  if (!key.startsWith('server.')) return undefined;
  const camel = key.slice('server.'.length).replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return OPTIONS.find((o) => o.name.toLowerCase() === camel.toLowerCase())?.name;
}

function unknownSection(file: string, name: string, line: number, keys: ScannedKey[]): Error {
  const where = `${displayPath(file)} line ${line}`;
  if (name === 'global') {
    const known = keys.filter((k) => k.section === 'global').map((k) => [k.key, cherryPyToTsgi(k.key)] as const).find(([, t]) => t !== undefined);
    const example = known !== undefined ? `${known[1]} = ... for ${known[0]}` : 'socketPort = 8080 for server.socket_port';
    return configError(where, `unknown section [global]: tsgi reads CherryPy's server options under [server] with camelCase names (write ${example}); app settings go under [app]`);
  }
  if (name.startsWith('server:')) {
    return configError(where, `[${name}] is not a valid listener section: the name after server: is letters, digits, _ and -; write e.g. [server:admin]`);
  }
  const parent = name.split('.')[0];
  if (name.includes('.') && (SECTIONS as readonly string[]).includes(parent)) {
    return configError(where, `unknown section [${name}]: sections do not nest; put these settings under [${parent}]`);
  }
  return configError(where, `unknown section [${name}]; ${didYouMean(name, SECTIONS, 'the sections are [server] and [app]')} ([server:NAME] adds a listener, [/path] holds tools.NAME.* keys, [global] log.* keys)`);
}

/** Read a config file into settings, without merging or cross-option checks (see resolveConfig). */
export function readConfigFile(file: string): FileSettings {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw configError('', `cannot read config file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the -C path`);
  }
  const { sections, keys } = scan(text, abs);
  const listeners = new Map<string, ListenerSettings>();
  for (const [name, line] of sections) {
    const m = LISTENER_SECTION_RE.exec(name);
    if (m !== null) listeners.set(name, { name: m[1], line, settings: [] });
    else if (isPathSection(name) || (name === 'global' && keys.every((k) => k.section !== 'global' || k.key.startsWith('log.')))) continue;
    else if (!(SECTIONS as readonly string[]).includes(name)) throw unknownSection(abs, name, line, keys);
  }
  const parsed = ini.parse(text) as Record<string, Record<string, unknown>>;
  const settings: Setting[] = [];
  const app: Record<string, string> = {};
  const seen = new Map<string, number>(); // section + canonical name -> line, for duplicates
  const toolKeys: RawToolKey[] = [];

  for (const k of keys) {
    const where = `${displayPath(abs)} line ${k.line}`;
    if (k.section === null) {
      // Where such a key belongs: a server option, a tool (per URL path, as CherryPy's config), a log file, or the app's own.
      const hint = OPTION_BY_NAME.has(k.key)
        ? 'put it under [server]'
        : k.key.startsWith('tools.')
          ? 'put it under a path section: [/] for the whole site, [/static] for one path'
          : k.key.startsWith('log.')
            ? 'put it under [global]'
            : 'put it under [server] or [app]';
      throw configError(where, `${k.key} is outside any section; ${hint}`);
    }
    if (k.key.endsWith('[]')) throw configError(where, `${k.key}: lists are not supported; give one value as ${k.key.slice(0, -2)} = value`);
    if (k.key === '__proto__') throw configError(where, '__proto__ is not allowed as a name; choose another');
    if (!k.hasValue) throw configError(where, `${k.key} has no value; write ${k.key} = value`);

    // CherryPy's keys: tools in [/path] sections, log.* in [global] or [server] (gateway/config/tools.ts).
    if (isPathSection(k.section) || k.section === 'global' || (k.section === 'server' && k.key.startsWith('log.'))) {
      const first = seen.get(`${k.section}\0${k.key}`);
      if (first !== undefined) throw configError(where, `${k.key} is set again (first on line ${first}); keep one`);
      seen.set(`${k.section}\0${k.key}`, k.line);
      toolKeys.push({ section: k.section, key: k.key, value: k.value, line: k.line });
      continue;
    }
    const serverSection = isServerSection(k.section);
    const option = serverSection ? OPTION_BY_NAME.get(k.key) : undefined;
    if (serverSection && option === undefined) {
      const names = OPTIONS.flatMap((o) => [o.name, ...(o.aliases ?? [])]);
      const n = nearest(k.key, names);
      const fix = n !== undefined ? `did you mean ${n}?` : 'run tsgi --help for the list of options';
      const appHint = n === undefined ? ' (settings for the app go under [app])' : '';
      throw configError(where, `unknown option ${k.key} in [${k.section}]; ${fix}${appHint}`);
    }
    const listener = listeners.get(k.section);
    if (listener !== undefined && option !== undefined && option.scope !== 'listener') {
      throw configError(
        where,
        `${k.key} applies to the whole process, not to one listener: every listener shares the app and its workers; move it to [server] (a [${k.section}] section takes only listener options: address, protocol, TLS, timeouts, scriptName, statusPath/statusAllow)`,
      );
    }
    const canonical = `${k.section}\0${option?.name ?? k.key}`;
    const first = seen.get(canonical);
    if (first !== undefined) {
      throw configError(where, `${k.key} is set again (first on line ${first}${option !== undefined && option.name !== k.key ? `, as ${option.name} or an old name of it` : ''}); keep one`);
    }
    seen.set(canonical, k.line);

    const raw = parsed[k.section]?.[k.key];
    if (raw !== null && typeof raw === 'object') throw configError(where, `${k.key}: nested values are not supported; give a string`);
    // ini turns true/false/null into JS values; options and [app] are text, so turn them back.
    const text = String(raw);
    if (option !== undefined) {
      const setting: Setting = { option, writtenAs: k.key, raw: text, source: { kind: 'file', file: abs, line: k.line } };
      (listener?.settings ?? settings).push(setting);
    } else app[k.key] = text;
  }
  const tools = resolveTools(abs, toolKeys, sections);
  const errorFile = toolKeys.find((k) => k.key === 'log.error_file');
  if (tools?.log.errorFile !== undefined && errorFile !== undefined) {
    // log.error_file is CherryPy's name for errorLog: one error log, set once.
    const other = settings.find((s) => s.option.name === 'errorLog');
    if (other !== undefined) {
      throw configError(`${displayPath(abs)} line ${errorFile.line}`, `log.error_file and errorLog (line ${(other.source as { line: number }).line}) both set the error log; keep one`);
    }
    settings.push({ option: OPTION_BY_NAME.get('errorLog')!, writtenAs: 'log.error_file', raw: tools.log.errorFile, source: { kind: 'file', file: abs, line: errorFile.line } });
  }
  return { file: abs, settings, app, listeners: [...listeners.values()], tools };
}

/** Read, merge with command-line settings (which win) and validate. */
export function loadConfig(file: string | undefined, cli?: CliSettings): Config {
  return resolveConfig({ file: file === undefined ? undefined : readConfigFile(file), cli });
}
