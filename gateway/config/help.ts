/** `tsgi --help`, generated from the option table so every option is documented where it is defined. */
import { BOOLEAN_WORDS } from './values.js';
import { flagUsage } from './argv.js';
import { OPTIONS, type AnyOptionDef, type OptionName } from './options.js';
import { toolHelpLines } from './tools-docs.js';

const WIDTH = 100;
const COL = 32;

function wrap(text: string, indent: number, first: string): string {
  const words = text.split(/\s+/).filter((w) => w !== '');
  const lines: string[] = [];
  let line = first.padEnd(indent);
  if (first !== '' && first.length >= indent) {
    lines.push(first);
    line = ' '.repeat(indent);
  }
  let empty = true;
  for (const w of words) {
    if (!empty && line.length + 1 + w.length > WIDTH) {
      lines.push(line);
      line = ' '.repeat(indent);
      empty = true;
    }
    line += (empty ? '' : ' ') + w;
    empty = false;
  }
  lines.push(line);
  return lines.join('\n');
}

/** The default as shown to users. */
export function defaultText(o: AnyOptionDef): string {
  if (o.default === undefined) return 'none';
  if (o.default === '') return "'' (root)";
  return String(o.default);
}

function optionHelp(o: AnyOptionDef, note: string | undefined): string {
  const md = o.doc.replace(/`/g, '');
  const alias = o.aliases !== undefined ? ` Old name: ${o.aliases.join(', ')}.` : '';
  const scope = o.scope === 'listener' ? ' Per listener.' : '';
  const text = `${o.name}: ${md}${alias} Default: ${defaultText(o)}.${scope}${note !== undefined ? ` ${note}` : ''}`;
  return wrap(text, COL, `  ${flagUsage(o)}`);
}

/**
 * The full help text. `notYet` says which options cannot be used yet (from gateway/serve.ts), so the help
 * never promises what is not built.
 */
export function helpText(notYet: (option: OptionName) => string | undefined = () => undefined): string {
  const head = [
    'Usage: tsgi MODULE[:EXPORT] [-C FILE.cfg] [--bind HOST:PORT | --socket PATH] [--<option> VALUE ...]',
    '',
    wrap('Serve a tsgi app. MODULE is a .js file (relative to the current directory) or a package name; EXPORT defaults to app, then default; EXPORT() calls a factory that returns the app.', 0, ''),
    '',
    'Options:',
    wrap('Read [server], [server:NAME] and [app] from this INI file. Command-line options override the same option in [server].', COL, '  -C, -c, --config FILE'),
    wrap('HOST:PORT, [IPv6]:PORT, HOST, :PORT or unix:PATH. --bind and --socket replace the listening address of [server] in the config file.', COL, '  -b, --bind ADDRESS'),
    wrap('Print this help.', COL, '  -h, --help'),
    wrap('Print the version.', COL, '  -v, --version'),
    '',
    wrap(`Server options: also written as NAME = VALUE under [server] in the config file. Booleans take ${BOOLEAN_WORDS}. Times are seconds. Options marked "Per listener" may also be set in a [server:NAME] section, which adds a listener (its own address, protocol, TLS, timeouts) served by the same process.`, 0, ''),
  ];
  const commands = [
    '',
    'Commands:',
    wrap('Print the front end\'s config (nginx, Apache, lighttpd or HAProxy) for a listener of FILE.cfg, run the front\'s own syntax check on it, and with --probe URL report what tsgi sees through the running front. `tsgi check --help` says more.', COL, '  check -C FILE.cfg --front NAME [--front-listen HOST:PORT] [--probe URL] [--snippet FILE]'),
  ];
  const tools = ['', wrap('Tools, CherryPy style: log.* keys under [global] in the config file; tools.NAME.on = 1 and tools.NAME.OPTION = value under a [/path] section (the longest path covering the request wins and inherits the shorter ones).', 0, ''), ...toolHelpLines()];
  return [...head, ...OPTIONS.map((o) => optionHelp(o, notYet(o.name))), ...tools, ...commands, ''].join('\n');
}
