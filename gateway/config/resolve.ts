/**
 * From settings (text + where it came from) to a validated config: parse each value with its option's
 * parser, let the command line override the file, then check the rules that involve two options. Every
 * error is a TSGI_ERR_CONFIG whose message starts with where the offending text is.
 */
import { TsgiError } from '../../app-api/errors.js';
import { BadValue } from './values.js';
import { defaultServerConfig, MODE_OPTIONS, modeIsSet, type AnyOptionDef, type OptionName, type ServerConfig } from './options.js';
import { describeSource, type Source } from './source.js';

/** One option as written: in the file, or on the command line. */
export interface Setting {
  option: AnyOptionDef;
  /** The name as written (an old alias stays visible in messages). */
  writtenAs: string;
  raw: string;
  source: Source;
}

/** What a config file contributed. */
export interface FileSettings {
  file: string;
  settings: Setting[];
  /** The `[app]` section: free-form strings for the app. */
  app: Record<string, string>;
}

/** What the command line contributed. */
export interface CliSettings {
  settings: Setting[];
}

/** A validated configuration. */
export interface Config {
  server: ServerConfig;
  /** `[app]`, handed to the app as environ['tsgi.app_config']. */
  app: Readonly<Record<string, string>>;
  /** Where each option that is not a default came from. */
  sources: Partial<Record<OptionName, Source>>;
  /** The config file, when one was read. */
  file?: string;
}

/** A TSGI_ERR_CONFIG error that starts with where the problem is. */
export function configError(where: Source | string, message: string): TsgiError {
  const prefix = typeof where === 'string' ? where : describeSource(where);
  return new TsgiError('TSGI_ERR_CONFIG', prefix === '' ? message : `${prefix}: ${message}`);
}

/** Options that together say where to listen; `--bind` and `--socket` replace all of them. */
const ADDRESS_OPTIONS: readonly OptionName[] = ['socketHost', 'socketPort', 'socketFile'];
const ADDRESS_FLAGS = new Set(['--bind', '--socket']);

function parseSetting(s: Setting): unknown {
  try {
    return s.option.parse(s.raw);
  } catch (err) {
    if (err instanceof BadValue) throw configError(s.source, `${s.writtenAs} ${err.message}`);
    throw err;
  }
}

/**
 * Merge and validate. Rules:
 * - a command-line option overrides the same option in the file;
 * - `--bind` and `--socket` set the whole listening address: the file's socketHost/socketPort/socketFile
 *   are then ignored (as gunicorn's `--bind` replaces the config's `bind`);
 * - any other conflicting pair is an error naming both options and where each came from.
 */
export function resolveConfig(input: { file?: FileSettings; cli?: CliSettings }): Config {
  const server = defaultServerConfig() as unknown as Record<string, unknown>;
  const sources: Partial<Record<OptionName, Source>> = {};
  const cli = input.cli?.settings ?? [];
  const cliReplacesAddress = cli.some((s) => s.source.kind === 'cli' && ADDRESS_FLAGS.has(s.source.flag));
  const setBy = new Map<OptionName, Setting>();

  // Every value is parsed, even one the command line overrides: a broken file should not go unnoticed.
  const file = (input.file?.settings ?? []).map((s) => [s, parseSetting(s)] as const);
  const flags = cli.map((s) => [s, parseSetting(s)] as const);
  for (const [s, value] of [...file, ...flags]) {
    if (s.source.kind === 'file' && cliReplacesAddress && ADDRESS_OPTIONS.includes(s.option.name)) continue;
    server[s.option.name] = value;
    sources[s.option.name] = s.source;
    setBy.set(s.option.name, s);
  }

  checkConflicts(server as unknown as ServerConfig, setBy);
  return { server: server as unknown as ServerConfig, app: Object.freeze({ ...(input.file?.app ?? {}) }), sources, file: input.file?.file };
}

function conflict(a: Setting, b: Setting, why: string): TsgiError {
  return configError('', `${a.writtenAs} (${describeSource(a.source)}) conflicts with ${b.writtenAs} (${describeSource(b.source)}): ${why}`);
}

function checkConflicts(c: ServerConfig, setBy: Map<OptionName, Setting>): void {
  const file = setBy.get('socketFile');
  if (file !== undefined) {
    for (const tcp of ['socketHost', 'socketPort'] as const) {
      const other = setBy.get(tcp);
      if (other !== undefined) throw conflict(file, other, 'a server listens on a unix socket or on TCP, not both; remove one of them');
    }
  }

  const modes = MODE_OPTIONS.map((m) => setBy.get(m)).filter((s): s is Setting => s !== undefined && modeIsSet(c[s.option.name]));
  if (modes.length > 1) {
    throw conflict(modes[0], modes[1], 'choose one concurrency model (threading, forking, processPool or threadPool); remove the other or set it to 0');
  }

  const key = setBy.get('sslKeyFile');
  const cert = setBy.get('sslCertificateFile');
  if ((key === undefined) !== (cert === undefined)) {
    const given = (key ?? cert)!;
    const missing = key === undefined ? 'sslKeyFile' : 'sslCertificateFile';
    throw configError(given.source, `${given.writtenAs} is set but ${missing} is not: HTTPS needs both; set ${missing} too or remove ${given.option.name}`);
  }

  // FastCGI and SCGI peers are web servers that terminate HTTP and TLS themselves; `auto` tells protocols
  // apart by their first bytes, which TLS hides.
  const protocol = setBy.get('protocol');
  if (protocol !== undefined && c.protocol !== 'http') {
    const httpOnly = c.protocol === 'auto' ? (['sslKeyFile', 'sslCertificateFile'] as const) : (['http2', 'sslKeyFile', 'sslCertificateFile'] as const);
    for (const name of httpOnly) {
      const s = setBy.get(name);
      if (s !== undefined && (name !== 'http2' || c.http2)) {
        const why = c.protocol === 'auto' ? 'protocol = auto cannot see through TLS; use protocol = http for HTTPS' : `with ${c.protocol} the web server in front terminates HTTP and TLS`;
        throw conflict(protocol, s, `${s.option.name} applies to protocol = http only: ${why}`);
      }
    }
  }

  if (c.requestTimeout > 0 && c.headerTimeout > c.requestTimeout) {
    const req = setBy.get('requestTimeout')!;
    const head = setBy.get('headerTimeout');
    const why = `the whole request cannot have a shorter deadline than its head (headerTimeout ${c.headerTimeout} s > requestTimeout ${c.requestTimeout} s); raise requestTimeout or lower headerTimeout`;
    if (head !== undefined) throw conflict(head, req, why);
    throw configError(req.source, `requestTimeout ${c.requestTimeout} is less than headerTimeout (default ${c.headerTimeout}): ${why.split('; ')[1]}`);
  }
}
