/**
 * `tsgi check -C server.cfg --front nginx|apache|lighttpd|haproxy [--front-listen HOST:PORT]
 * [--listener NAME] [--probe URL [--probe-from ADDR]]`: print the front's config snippet for a listener of
 * the INI file to stdout, and to stderr what the front's own syntax check says, the misconfigurations found
 * in the config, and with --probe what tsgi saw of a request sent through the running front.
 *
 * Exit status: 0 when nothing is wrong, 1 when the syntax check refuses the snippet or a line says `error`,
 * 2 for a bad command line or config file (thrown as TSGI_ERR_CONFIG, printed by the CLI).
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import { configError } from '../config/resolve.js';
import { didYouMean } from '../config/suggest.js';
import { CHECK_FRONTS } from './fronts.js';
import { staticFindings } from './findings.js';
import { runProbe } from './probe.js';
import { checkSyntax } from './syntax.js';
import { checkTarget, parseFrontListen } from './target.js';
import { FRONT_NAMES, type CheckTarget, type Finding, type FrontName, type FrontRenderer } from './types.js';

/** The arguments of `tsgi check`. */
export interface CheckArgs {
  configFile: string;
  front: FrontName;
  frontListen: string;
  listener: string;
  probe?: string;
  probeFrom?: string;
  syntax: boolean;
  /** Check this file (a snippet edited by hand) instead of the generated one. */
  snippetFile?: string;
}

/** `tsgi check --help`. */
export const CHECK_USAGE = `usage: tsgi check -C FILE.cfg --front ${FRONT_NAMES.join('|')} [--front-listen HOST:PORT] [--listener NAME]
                  [--probe URL [--probe-from ADDR]] [--snippet FILE] [--no-syntax]

Prints the front end's config for a listener of FILE.cfg (default [server]) to stdout, runs the front's
own syntax check on it when the front is installed, and prints one line per misconfiguration to stderr.
  --front-listen   where the front listens (default: port 80 on every interface)
  --listener NAME  the [server:NAME] listener instead of [server]
  --probe URL      serve the listener with a probe app for one request (stop tsgi first), send a request
                   to URL through the running front, and report REMOTE_ADDR, scheme, Host, SCRIPT_NAME /
                   PATH_INFO, the protocol and response buffering as tsgi saw them
  --probe-from     local address of the probe's client (default 127.0.0.2 for a loopback URL)
  --snippet FILE   check this snippet (the generated one, edited) instead of printing the generated one
  --no-syntax      do not run the front's syntax check
Exit status: 0 fine, 1 the syntax check refused the snippet or a line says error, 2 bad arguments.
`;

function usage(message: string): Error {
  return configError('tsgi check', `${message}; tsgi check --help shows the usage`);
}

/** Parse the arguments after `check`; undefined for --help. */
export function parseCheckArgs(argv: readonly string[]): CheckArgs | undefined {
  const out: Partial<CheckArgs> = { frontListen: '80', listener: 'server', syntax: true };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw usage(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const take = (): string => inline ?? value(i++, flag);
    switch (flag) {
      case '--help':
      case '-h':
        return undefined;
      case '-C':
      case '-c':
      case '--config':
        out.configFile = take();
        break;
      case '--front': {
        const f = take();
        if (!(FRONT_NAMES as readonly string[]).includes(f)) throw usage(`--front ${f} is not a front tsgi check knows; ${didYouMean(f, FRONT_NAMES, `use one of ${FRONT_NAMES.join(', ')}`)}`);
        out.front = f as FrontName;
        break;
      }
      case '--front-listen':
        out.frontListen = take();
        break;
      case '--listener':
        out.listener = take();
        break;
      case '--probe':
        out.probe = take();
        break;
      case '--probe-from':
        out.probeFrom = take();
        break;
      case '--snippet':
        out.snippetFile = take();
        break;
      case '--no-syntax':
        out.syntax = false;
        break;
      default:
        throw usage(`unknown argument ${argv[i]}`);
    }
  }
  if (out.configFile === undefined) throw usage('-C FILE.cfg is required: the INI file the front serves');
  if (out.front === undefined) throw usage(`--front is required: one of ${FRONT_NAMES.join(', ')}`);
  if (out.probe !== undefined && !/^https?:\/\//.test(out.probe)) throw usage(`--probe ${out.probe} is not an http:// or https:// URL`);
  return out as CheckArgs;
}

/** The snippet for a listener of an INI file, and the target it was made for. */
export function renderCheck(configFile: string, frontName: FrontName, frontListen = '80', listener = 'server'): { front: FrontRenderer; target: CheckTarget; snippet: string; config: ReturnType<typeof loadConfig> } {
  const config = loadConfig(configFile);
  const front = CHECK_FRONTS[frontName];
  const target = checkTarget(config, configFile, parseFrontListen(frontListen), listener);
  return { front, target, snippet: front.render(target), config };
}

/** `error: ...`, `warn: ...`, `ok: ...`. */
function line(f: Finding): string {
  return `tsgi check: ${f.level}: ${f.text}\n`;
}

/** Run `tsgi check` with the arguments after `check`; returns the exit status. */
export async function runCheck(argv: readonly string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const args = parseCheckArgs(argv);
  if (args === undefined) {
    out.write(CHECK_USAGE);
    return 0;
  }
  const { front, target, snippet: generated, config } = renderCheck(args.configFile, args.front, args.frontListen, args.listener);
  const findings = staticFindings(target, front);
  // A snippet for a listener the front cannot serve would only mislead: the error line says what to change.
  if (front.cannotServe(target) !== undefined) {
    for (const f of findings) err.write(line(f));
    return 1;
  }
  let snippet = generated;
  if (args.snippetFile !== undefined) {
    try {
      snippet = readFileSync(args.snippetFile, 'utf8');
    } catch (e) {
      throw usage(`--snippet ${args.snippetFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  } else out.write(snippet);
  let refused = false;
  if (args.syntax) {
    const s = await checkSyntax(front, snippet, target.listen, args.snippetFile ?? `the ${front.name} snippet`);
    if (s.status === 'missing') findings.unshift({ level: 'warn', text: `syntax: ${s.binary} is not installed here, so the snippet was not checked` });
    else if (s.status === 'ok') {
      // lighttpd only warns about an unknown key (a typo): say so rather than hide it.
      const warnings = s.output.split('\n').filter((l) => /warn|unknown/i.test(l));
      findings.unshift(warnings.length === 0 ? { level: 'ok', text: `syntax: ${s.binary} accepts the snippet` } : { level: 'warn', text: `syntax: ${s.binary} accepts the snippet but warns:\n${warnings.map((l) => `    ${l}`).join('\n')}` });
    }
    else {
      refused = true;
      findings.unshift({ level: 'error', text: `syntax: ${s.binary} refuses the snippet (${s.command}):\n${s.output.split('\n').map((l) => `    ${l}`).join('\n')}` });
    }
  }
  for (const f of findings) err.write(line(f));
  let failed = findings.some((f) => f.level === 'error');
  // The probe also runs after a config finding: it shows what that finding does to a real request.
  if (args.probe !== undefined && !refused) {
    const report = await runProbe({ config, target, front, url: args.probe, listener: args.listener, from: args.probeFrom });
    for (const l of report.lines) err.write(`tsgi check: ${l}\n`);
    for (const f of report.findings) err.write(line(f));
    if (report.findings.some((f) => f.level === 'error')) {
      failed = true;
      if (report.log !== '') err.write(`tsgi check: tsgi's log while probing:\n${report.log}`);
    }
  }
  return failed ? 1 : 0;
}
