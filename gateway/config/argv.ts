/**
 * The command line: `tsgi MODULE[:EXPORT] [-C FILE.cfg] [--bind HOST:PORT | --socket PATH] [--<option> value ...]`.
 * Every `[server]` option has a flag generated from the option table (socketPort -> `--socket-port`; the
 * camelCase `--socketPort` is accepted too). Booleans: `--http2`, `--no-http2`, `--http2=off`, `--http2 off`.
 */
import { isBooleanWord } from './values.js';
import { OPTIONS, type AnyOptionDef } from './options.js';
import { configError, type Setting } from './resolve.js';
import { didYouMean } from './suggest.js';

/** What the command line asks for. */
export type ParsedArgs =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; appSpec: string; configFile: string | undefined; settings: Setting[] };

const FLAG_TO_OPTION = new Map<string, AnyOptionDef>();
for (const o of OPTIONS) {
  FLAG_TO_OPTION.set(o.cli, o);
  FLAG_TO_OPTION.set('--' + o.name, o);
}

function cli(flag: string): { kind: 'cli'; flag: string } {
  return { kind: 'cli', flag };
}

/**
 * `--bind` as gunicorn writes it: `HOST:PORT`, `[IPv6]:PORT`, `HOST`, `:PORT`, `PORT`, `unix:PATH`, or
 * `fd://FD`. Returns socketHost/socketPort settings, or a socketFile or socketFd setting.
 */
export function bindSettings(value: string, flag = '--bind'): Setting[] {
  const src = cli(flag);
  const host = OPTIONS.find((o) => o.name === 'socketHost')!;
  const port = OPTIONS.find((o) => o.name === 'socketPort')!;
  const file = OPTIONS.find((o) => o.name === 'socketFile')!;
  const set = (option: AnyOptionDef, raw: string): Setting => ({ option, writtenAs: option.name, raw, source: src });
  if (value.startsWith('unix:')) return [set(file, value.slice('unix:'.length))];
  if (value.startsWith('fd://')) return [set(OPTIONS.find((o) => o.name === 'socketFd')!, value.slice('fd://'.length))];
  let m: RegExpExecArray | null;
  if ((m = /^\[([^\]]*)\](?::(.*))?$/.exec(value)) !== null) return m[2] === undefined ? [set(host, m[1])] : [set(host, m[1]), set(port, m[2])];
  if (/^\d+$/.test(value)) return [set(port, value)];
  const colons = value.split(':').length - 1;
  if (colons === 1) {
    const [h, p] = value.split(':');
    return h === '' ? [set(port, p)] : [set(host, h), set(port, p)];
  }
  if (colons > 1) throw configError(src, `${JSON.stringify(value)} is ambiguous (an IPv6 address?); write an IPv6 address in brackets, e.g. [::1]:8080`);
  return [set(host, value)];
}

function usageError(message: string, hint = 'tsgi --help shows the usage'): Error {
  return configError('command line', `${message}; ${hint}`);
}

/** Parse `process.argv.slice(2)`. Throws TSGI_ERR_CONFIG for anything it cannot make sense of. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const settings: Setting[] = [];
  const positional: string[] = [];
  let configFile: string | undefined;
  let i = 0;
  const takeValue = (flag: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    const next = argv[i + 1];
    if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-\d/.test(next))) throw usageError(`${flag} needs a value`);
    i++;
    return next;
  };

  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);

    if (flag === '--help' || flag === '-h') return { kind: 'help' };
    if (flag === '--version' || flag === '-v') return { kind: 'version' };
    if (flag === '--config' || flag === '-C' || flag === '-c') {
      if (configFile !== undefined) throw usageError(`${flag}: only one config file may be given`);
      configFile = takeValue(flag, inline);
      continue;
    }
    if (flag === '--bind' || flag === '-b') {
      settings.push(...bindSettings(takeValue(flag, inline), '--bind'));
      continue;
    }
    let option = FLAG_TO_OPTION.get(flag);
    let negated = false;
    if (option === undefined && flag.startsWith('--no-')) {
      const positive = FLAG_TO_OPTION.get('--' + flag.slice('--no-'.length));
      if (positive?.type === 'boolean') {
        option = positive;
        negated = true;
      }
    }
    if (option === undefined) {
      const known = [...OPTIONS.map((o) => o.cli), '--config', '--bind', '--help', '--version'];
      throw usageError(`unknown option ${flag}`, didYouMean(flag, known, 'tsgi --help lists the options'));
    }
    let raw: string;
    if (option.type === 'boolean') {
      if (negated) {
        if (inline !== undefined) throw usageError(`${flag} takes no value`);
        raw = 'false';
      } else if (inline !== undefined) raw = inline;
      else if (argv[i + 1] !== undefined && isBooleanWord(argv[i + 1])) raw = argv[++i];
      else raw = 'true';
    } else raw = takeValue(flag, inline);
    settings.push({ option, writtenAs: option.name, raw, source: cli(flag) });
  }

  if (positional.length === 0) throw usageError('no application given: tsgi MODULE[:EXPORT], e.g. tsgi dist/examples/hello/app.js');
  if (positional.length > 1) throw usageError(`one application expected, got ${positional.map((p) => JSON.stringify(p)).join(' ')}`);
  return { kind: 'run', appSpec: positional[0], configFile, settings };
}

/** For --help: `--socket-port PORT`, `--http2, --no-http2`. */
export function flagUsage(o: AnyOptionDef): string {
  return o.type === 'boolean' ? `${o.cli}, --no-${o.cli.slice(2)}` : `${o.cli} ${o.metavar ?? 'VALUE'}`;
}
