/**
 * From settings (text + where it came from) to a validated config: parse each value with its option's
 * parser, let the command line override the file, then check the rules that involve two options, within
 * each listener (`[server]` and every `[server:NAME]`) and across listeners (two on one address). Every
 * error is a TSGI_ERR_CONFIG whose message starts with where the offending text is.
 */
import path from 'node:path';
import { isIP } from 'node:net';
import { tsgiError, TsgiError } from '../../app-api/errors.js';
import { BadValue } from './values.js';
import { defaultServerConfig, MODE_OPTIONS, modeIsSet, OPTIONS, type AnyOptionDef, type OptionName, type ServerConfig } from './options.js';
import { describeSource, type Source } from './source.js';
import type { ToolsConfig } from './tools-types.js';

/** One option as written: in the file, or on the command line. */
export interface Setting {
  option: AnyOptionDef;
  /** The name as written (an old alias stays visible in messages). */
  writtenAs: string;
  raw: string;
  source: Source;
}

/** One `[server:NAME]` section of a config file. */
export interface ListenerSettings {
  /** NAME. */
  name: string;
  /** The line of the section header. */
  line: number;
  /** Its options (listener scope only; load.ts refuses the others). */
  settings: Setting[];
}

/** What a config file contributed. */
export interface FileSettings {
  file: string;
  /** The `[server]` section. */
  settings: Setting[];
  /** The `[app]` section: free-form strings for the app. */
  app: Record<string, string>;
  /** The `[server:NAME]` sections, in file order. */
  listeners?: ListenerSettings[];
  /** The `[/path]` tool sections and the `log.*` keys, checked (gateway/config/tools.ts). */
  tools?: ToolsConfig;
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
  /**
   * Every listener, `[server]` first (its `server` is this config's `server`), then each `[server:NAME]`.
   * Absent in a Config built by hand: read it with listenersOf().
   */
  listeners?: readonly Listener[];
  /** The tools switched on per path and the log files (`[/path]` sections, `log.*`), when the file has any. */
  tools?: ToolsConfig;
}

/** One listening socket of the process. */
export interface Listener {
  /** `server` for `[server]`, NAME for `[server:NAME]`. */
  name: string;
  /** `[server]` or `[server:NAME]`, for messages and the start line. */
  section: string;
  /**
   * The settings this listener starts with: its listener options (a `[server:NAME]` section starts from the
   * defaults, not from `[server]`), and the process options of `[server]`.
   */
  server: ServerConfig;
  /** Where each of its options that is not a default came from. */
  sources: Partial<Record<OptionName, Source>>;
  /** The section header, for a `[server:NAME]` listener. */
  header?: Source;
}

/** The listeners of a config, `[server]` first; a Config built by hand has the one of `[server]`. */
export function listenersOf(config: Config): readonly Listener[] {
  return config.listeners ?? [{ name: 'server', section: '[server]', server: config.server, sources: config.sources }];
}

/**
 * A TSGI_ERR_CONFIG error built from the code's template, "{where}: {problem}; {fix}": `where` names the
 * file and line (or the command line, or the option), and `message` is written "what is wrong; the fix".
 * Every caller words both halves, so it is split here at its first "; " rather than at each of the many
 * call sites; a message without one gets a fix that sends the reader back to the place named.
 */
export function configError(where: Source | string, message: string): TsgiError {
  const prefix = typeof where === 'string' ? where : describeSource(where);
  const split = message.indexOf('; ');
  const problem = split < 0 ? message : message.slice(0, split);
  const fix = split < 0 ? 'correct the setting at the place named, or remove it to use the default' : message.slice(split + 2);
  return tsgiError('TSGI_ERR_CONFIG', { where: prefix === '' ? 'configuration' : prefix, problem, fix });
}

/** Options that together say where to listen; `--bind` and `--socket` replace all of them. */
const ADDRESS_OPTIONS: readonly OptionName[] = ['socketHost', 'socketPort', 'socketFile', 'socketFd'];
const ADDRESS_FLAGS = new Set(['--bind', '--socket']);

function parseSetting(s: Setting): unknown {
  try {
    return s.option.parse(s.raw);
  } catch (err) {
    if (err instanceof BadValue) throw configError(s.source, `${s.writtenAs} ${err.message}; write ${s.writtenAs} that way, or remove it to use the default`);
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

  const main = server as unknown as ServerConfig;
  checkProcess(main, setBy);
  checkListener(main, setBy);
  const listeners: Listener[] = [{ name: 'server', section: '[server]', server: main, sources }];
  for (const l of input.file?.listeners ?? []) listeners.push(resolveListener(input.file!.file, l, main));
  checkAddresses(listeners);
  return { server: main, app: Object.freeze({ ...(input.file?.app ?? {}) }), sources, file: input.file?.file, listeners, tools: input.file?.tools };
}

/** A `[server:NAME]` listener: the defaults, its own settings, and the process options of `[server]`. */
function resolveListener(file: string, l: ListenerSettings, main: ServerConfig): Listener {
  const c = { ...main } as unknown as Record<string, unknown>;
  for (const o of OPTIONS) if (o.scope === 'listener') c[o.name] = o.default;
  const sources: Partial<Record<OptionName, Source>> = {};
  const setBy = new Map<OptionName, Setting>();
  for (const s of l.settings) {
    c[s.option.name] = parseSetting(s);
    sources[s.option.name] = s.source;
    setBy.set(s.option.name, s);
  }
  const header: Source = { kind: 'file', file, line: l.line };
  const section = `[server:${l.name}]`;
  if (!setBy.has('socketPort') && !setBy.has('socketFile') && !setBy.has('socketFd')) {
    // The default port is [server]'s: a listener that names no address is a mistake, not a second 8080.
    throw configError(header, `${section} does not say where to listen; set socketPort (and socketHost) or socketFile in it`);
  }
  checkListener(c as unknown as ServerConfig, setBy);
  return { name: l.name, section, server: c as unknown as ServerConfig, sources, header };
}

/** Whether two TCP binds on the same port collide: the same host, or a wildcard that covers the other. */
function hostsCollide(a: string, b: string): boolean {
  if (a === b || a === '::' || b === '::') return true; // `::` is dual-stack on Linux: it takes IPv4 too
  if (a === '0.0.0.0') return isIP(b) !== 6;
  if (b === '0.0.0.0') return isIP(a) !== 6;
  return false;
}

/** `127.0.0.1:8080`, `[::1]:8080`, `unix:/run/tsgi.sock`. */
function addressText(c: ServerConfig): string {
  if (c.socketFd !== undefined) return `fd://${c.socketFd}`;
  if (c.socketFile !== undefined) return `unix:${c.socketFile}`;
  return `${c.socketHost.includes(':') ? `[${c.socketHost}]` : c.socketHost}:${c.socketPort}`;
}

/** `[server:admin] (server.cfg line 9)`: the section and where its address was set. */
function whereListens(l: Listener): string {
  const src = l.server.socketFd !== undefined ? l.sources.socketFd : l.server.socketFile !== undefined ? l.sources.socketFile : (l.sources.socketPort ?? l.sources.socketHost);
  const at = src ?? l.header;
  return at === undefined ? `${l.section} (the default address)` : `${l.section} (${describeSource(at)})`;
}

/** Two listeners on one address would fail at listen time with EADDRINUSE; say which sections instead. */
function checkAddresses(listeners: readonly Listener[]): void {
  for (let j = 1; j < listeners.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = listeners[i].server;
      const b = listeners[j].server;
      const same =
        a.socketFd !== undefined || b.socketFd !== undefined
          ? a.socketFd === b.socketFd
          : a.socketFile !== undefined || b.socketFile !== undefined
          ? a.socketFile !== undefined && b.socketFile !== undefined && path.resolve(a.socketFile) === path.resolve(b.socketFile)
          : a.socketPort !== 0 && a.socketPort === b.socketPort && hostsCollide(a.socketHost, b.socketHost);
      if (same) {
        const what = b.socketFd !== undefined ? 'socketFd' : b.socketFile !== undefined ? 'socketFile' : 'socketPort';
        throw configError(
          '',
          `${whereListens(listeners[j])} and ${whereListens(listeners[i])} both listen on ${addressText(b)}${addressText(a) !== addressText(b) ? ` (${addressText(a)} covers it)` : ''}: each listener needs its own address; change ${what} in one of them`,
        );
      }
    }
  }
}

function conflict(a: Setting, b: Setting, why: string): TsgiError {
  const fix = why.includes('; ') ? '' : '; remove one of them';
  return configError('', `${a.writtenAs} (${describeSource(a.source)}) conflicts with ${b.writtenAs} (${describeSource(b.source)}): ${why}${fix}`);
}

/** Rules between process options (only `[server]` and the command line set them). */
function checkProcess(c: ServerConfig, setBy: Map<OptionName, Setting>): void {
  const modes = MODE_OPTIONS.map((m) => setBy.get(m)).filter((s): s is Setting => s !== undefined && modeIsSet(c[s.option.name]));
  if (modes.length > 1) {
    throw conflict(modes[0], modes[1], 'choose one concurrency model (threading, forking, processPool or threadPool); remove the other or set it to 0');
  }

  const wait = setBy.get('threadQueueWait');
  const size = setBy.get('threadQueueSize');
  if (wait !== undefined && size !== undefined && c.threadQueueWait > 0 && c.threadQueueSize === 0) {
    throw conflict(wait, size, 'with threadQueueSize = 0 no request waits for a thread, so there is no queue wait to limit; remove threadQueueWait or allow a queue');
  }
}

/** Rules between the options of one listener (`[server]`, or a `[server:NAME]` section). */
function checkListener(c: ServerConfig, setBy: Map<OptionName, Setting>): void {
  const fd = setBy.get('socketFd');
  if (fd !== undefined) {
    for (const other of ['socketHost', 'socketPort', 'socketFile'] as const) {
      const o = setBy.get(other);
      if (o !== undefined) throw conflict(fd, o, 'an inherited socket is already bound to its address; remove one of them');
    }
  }
  const file = setBy.get('socketFile');
  if (file !== undefined) {
    for (const tcp of ['socketHost', 'socketPort'] as const) {
      const other = setBy.get(tcp);
      if (other !== undefined) throw conflict(file, other, 'a server listens on a unix socket or on TCP, not both; remove one of them');
    }
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
    throw configError(req.source, `requestTimeout ${c.requestTimeout} is less than headerTimeout (default ${c.headerTimeout}); ${why.split('; ')[1]}`);
  }
}
