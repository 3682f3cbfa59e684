/**
 * The config file and the option table: every option parses, bad values and unknown names are refused with
 * the file, the line, the option and the fix, conflicts name both options and where each came from, the
 * command line overrides the file, [app] reaches the app, and modes/protocols nobody built answer "not yet".
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { isTsgiError, TsgiError } from '../app-api/errors.js';
import { parseArgs, bindSettings } from '../gateway/config/argv.js';
import { loadConfig, readConfigFile } from '../gateway/config/load.js';
import { defaultServerConfig, MODE_OPTIONS, modeOf, OPTIONS, type OptionName, type ServerConfig } from '../gateway/config/options.js';
import { resolveConfig, type Config } from '../gateway/config/resolve.js';
import { loadApp, parseAppSpec } from '../gateway/app-loader.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { FEATURES, FRONTS, MODES, registerMode, serve, type ModeRunner, type Running } from '../gateway/serve.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ECHO = path.join(ROOT, 'dist/examples/echo-environ/app.js');

let dir: string;
let n = 0;
/** Write a config file in the test's temp dir; returns its path. */
function cfg(text: string): string {
  const file = path.join(dir, `t${++n}.cfg`);
  writeFileSync(file, text);
  return file;
}

/** The TSGI_ERR_CONFIG message that loading `text` (and optional argv) fails with. */
function configFailure(text: string | undefined, argv: string[] = []): string {
  try {
    const args = parseArgs(['app.js', ...argv]);
    if (args.kind !== 'run') throw new Error('not a run');
    loadConfig(text === undefined ? undefined : cfg(text), { settings: args.settings });
  } catch (err) {
    expect(isTsgiError(err, 'TSGI_ERR_CONFIG'), String(err)).to.equal(true);
    return (err as TsgiError).message;
  }
  throw new Error('expected a TSGI_ERR_CONFIG error');
}

function load(text: string, argv: string[] = []): Config {
  const args = parseArgs(['app.js', ...argv]);
  if (args.kind !== 'run') throw new Error('not a run');
  return loadConfig(cfg(text), { settings: args.settings });
}

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tsgi-config-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('config: the option table', () => {
  // One valid value per option, written as in a file, and what it must parse to. An option added to the
  // table without a row here fails the first test.
  const SAMPLES: Record<OptionName, [raw: string, value: unknown]> = {
    socketHost: ['0.0.0.0', '0.0.0.0'],
    socketPort: ['9090', 9090],
    socketFile: ['/run/tsgi.sock', '/run/tsgi.sock'],
    socketQueueSize: ['128', 128],
    protocol: ['scgi', 'scgi'],
    threading: ['yes', true],
    forking: ['on', true],
    processPool: ['4', 4],
    threadPool: ['8', 8],
    workerTimeout: ['30', 30],
    maxRequests: ['1000', 1000],
    maxRequestsJitter: ['50', 50],
    maxChildren: ['32', 32],
    spareChildren: ['2', 2],
    threadQueueSize: ['64', 64],
    threadQueueWait: ['0.5', 0.5],
    maxInFlight: ['64', 64],
    threadBatch: ['4', 4],
    http2: ['true', true],
    sslKeyFile: ['/etc/tsgi/key.pem', '/etc/tsgi/key.pem'],
    sslCertificateFile: ['/etc/tsgi/cert.pem', '/etc/tsgi/cert.pem'],
    reverseDNS: ['1', true],
    scriptName: ['/app', '/app'],
    xmlRpc: ['off', false],
    headerTimeout: ['2.5', 2.5],
    idleTimeout: ['0', 0],
    keepAliveTimeout: ['10', 10],
    requestTimeout: ['300', 300],
    gracefulTimeout: ['5', 5],
    pidFile: ['/run/tsgi.pid', '/run/tsgi.pid'],
    reload: ['1', true],
    socketFd: ['3', 3],
    errorLog: ['/var/log/tsgi.log', '/var/log/tsgi.log'],
    statusPath: ['/server-status/', '/server-status'],
    statusAllow: ['*', '*'],
    metricsListen: ['127.0.0.1:9100', '127.0.0.1:9100'],
    interface: ['fetch', 'fetch'],
    middleware: ['helmet,compression', 'helmet, compression'],
    trustedProxies: ['10.0.0.0/8, ::1 unix', '10.0.0.0/8,::1,unix'],
    trustedProxyHeaders: ['X-Forwarded-For, forwarded', 'x-forwarded-for,forwarded'],
    proxyProtocol: ['on', true],
    limitRequestLine: ['8190', 8190],
    limitRequestFields: ['0', 0],
    limitRequestFieldSize: ['16380', 16380],
    limitParamsSize: ['64k', 65536],
    maxBodySize: ['1m', 1048576],
    bodyTimeout: ['2.5', 2.5],
    readyPath: ['/ready/', '/ready'],
    drainDelay: ['2.5', 2.5],
  } as Record<OptionName, [string, unknown]>;

  // Options that are only valid together with another one.
  const COMPANION: Partial<Record<OptionName, OptionName>> = { sslKeyFile: 'sslCertificateFile', sslCertificateFile: 'sslKeyFile' };

  it('has a sample for every option, and every option parses from a file', () => {
    expect(OPTIONS.map((o) => o.name).filter((name) => SAMPLES[name] === undefined), 'options without a sample here').to.deep.equal([]);
    for (const o of OPTIONS) {
      const [raw, value] = SAMPLES[o.name];
      const other = COMPANION[o.name];
      const c = load(`[server]\n${o.name} = ${raw}\n${other !== undefined ? `${other} = ${SAMPLES[other][0]}\n` : ''}`);
      expect(c.server[o.name], o.name).to.deep.equal(value);
      expect(c.sources[o.name], o.name).to.deep.include({ kind: 'file', line: 2 });
    }
  });

  it('every option parses from its command-line flag', () => {
    for (const o of OPTIONS) {
      const [raw, value] = SAMPLES[o.name];
      const other = OPTIONS.find((x) => x.name === COMPANION[o.name]);
      const extra = other !== undefined ? [other.cli, SAMPLES[other.name][0]] : [];
      const c = loadConfig(undefined, { settings: (parseArgs(['app.js', o.cli, raw, ...extra]) as unknown as { settings: never[] }).settings });
      expect(c.server[o.name], o.cli).to.deep.equal(value);
      expect(c.sources[o.name], o.cli).to.deep.equal({ kind: 'cli', flag: o.cli });
    }
  });

  it('uses the defaults when nothing is set', () => {
    const c = loadConfig(undefined);
    expect(c.server).to.deep.equal(defaultServerConfig());
    expect(c.server.socketHost).to.equal('127.0.0.1');
    expect(c.server.socketPort).to.equal(8080);
    expect(c.server.protocol).to.equal('http');
    expect(c.server.gracefulTimeout).to.equal(30);
    expect(modeOf(c.server)).to.equal('single');
    expect(c.app).to.deep.equal({});
  });

  it('booleans accept 1/0, true/false, on/off, yes/no in any case', () => {
    for (const [raw, value] of [['1', true], ['0', false], ['TRUE', true], ['false', false], ['On', true], ['off', false], ['yes', true], ['NO', false]] as const) {
      expect(load(`[server]\nhttp2 = ${raw}\n`).server.http2, raw).to.equal(value);
    }
    expect(configFailure('[server]\nhttp2 = maybe\n')).to.match(/line 2: http2 must be a boolean \(1\/0, true\/false, on\/off, yes\/no\), got "maybe"/);
  });

  it('fixedNumberOfProcesses is the old name of processPool', () => {
    const c = load('[server]\nfixedNumberOfProcesses = 3\n');
    expect(c.server.processPool).to.equal(3);
    expect(configFailure('[server]\nprocessPool = 2\nfixedNumberOfProcesses = 3\n')).to.match(/line 3: fixedNumberOfProcesses is set again \(first on line 2.*\); keep one/);
  });

  it('ini syntax: comments, quotes and inline comments', () => {
    const c = load('; comment\n# comment\n[server]\nsocketHost = "0.0.0.0"\nsocketPort = 9000 ; inline comment\n');
    expect(c.server.socketHost).to.equal('0.0.0.0');
    expect(c.server.socketPort).to.equal(9000);
  });
});

describe('config: errors name the file, the line, the option and the fix', () => {
  it('bad values', () => {
    const cases: [string, RegExp][] = [
      ['socketPort = 80x0', /socketPort must be an integer 0-65535, got "80x0"/],
      ['socketPort = 70000', /socketPort must be an integer 0-65535, got "70000"/],
      ['socketQueueSize = 0', /socketQueueSize must be an integer 1-65535/],
      ['protocol = ftp', /protocol must be one of http, fastcgi, scgi, auto, got "ftp"/],
      ['headerTimeout = 0', /headerTimeout must be a number of seconds greater than 0/],
      ['gracefulTimeout = -1', /gracefulTimeout must be a number of seconds of at least 0, got "-1"/],
      ['idleTimeout = 10s', /idleTimeout must be a number of seconds of at least 0, got "10s"/],
      ['scriptName = app/', /scriptName must be a URL path like \/app/],
      ['socketHost = bad host!', /socketHost must be an IP address or a host name/],
      ['threadPool = -2', /threadPool must be an integer 0-10000/],
      ['socketFile =', /socketFile must be a file path, got an empty value/],
    ];
    for (const [line, re] of cases) {
      const msg = configFailure(`[server]\n\n${line}\n`);
      expect(msg, line).to.match(re);
      expect(msg, line).to.match(/^t\d+\.cfg line 3: |\/t\d+\.cfg line 3: /);
    }
  });

  it('an unknown option gives its line number and the nearest known name', () => {
    expect(configFailure('[server]\n; a comment\n\nsocketPrt = 8080\n')).to.match(/t\d+\.cfg line 4: unknown option socketPrt in \[server\]; did you mean socketPort\?/);
    expect(configFailure('[server]\nsocket_port = 8080\n')).to.match(/line 2: unknown option socket_port in \[server\]; did you mean socketPort\?/);
    expect(configFailure('[server]\nthreadpool = 4\n')).to.match(/did you mean threadPool\?/);
    expect(configFailure('[server]\ndatabaseUrl = x\n')).to.match(/line 2: unknown option databaseUrl in \[server\]; run tsgi --help for the list of options \(settings for the app go under \[app\]\)/);
  });

  it('an unknown section, with the nearest name; [global] explains the CherryPy translation', () => {
    expect(configFailure('[server]\nsocketPort = 1\n[servr]\nx = 1\n')).to.match(/line 3: unknown section \[servr\]; did you mean server\?/);
    expect(configFailure('[other]\n')).to.match(/line 1: unknown section \[other\]; the sections are \[server\] and \[app\]/);
    expect(configFailure('[global]\nserver.socket_port = 8080\n')).to.match(/line 1: unknown section \[global\]: .*under \[server\] with camelCase names \(write socketPort = \.\.\. for server\.socket_port\)/);
    expect(configFailure('[server.ssl]\n')).to.match(/unknown section \[server\.ssl\]: sections do not nest; put these settings under \[server\]/);
  });

  it('keys outside a section, without a value, given twice, or as lists', () => {
    expect(configFailure('socketPort = 80\n[server]\n')).to.match(/line 1: socketPort is outside any section; put it under \[server\]/);
    // A tool or a log key has its own section: the hint names it, not [server]/[app] where it would be refused again.
    expect(configFailure('tools.sessions.on = 1\n[server]\n')).to.match(/line 1: tools\.sessions\.on is outside any section; put it under a path section: \[\/\] for the whole site/);
    expect(configFailure('log.access_file = access.log\n')).to.match(/line 1: log\.access_file is outside any section; put it under \[global\]/);
    expect(configFailure('[server]\nthreading\n')).to.match(/line 2: threading has no value; write threading = value/);
    expect(configFailure('[server]\nsocketPort = 1\n[app]\nx = 1\n[server]\nsocketPort = 2\n')).to.match(/line 6: socketPort is set again \(first on line 2\); keep one/);
    expect(configFailure('[app]\nhosts[] = a\nhosts[] = b\n')).to.match(/line 2: hosts\[\]: lists are not supported/);
    expect(configFailure('[server\nsocketPort = 1\n')).to.match(/line 1: "\[server" is not a section header/);
  });

  it('a missing file names the path', () => {
    expect(() => loadConfig(path.join(dir, 'nope.cfg'))).to.throw(TsgiError, /cannot read config file .*nope\.cfg \(ENOENT\); check the -C path/);
  });
});

describe('config: conflicts name both options and where each came from', () => {
  it('socketFile vs socketPort and socketHost', () => {
    expect(configFailure('[server]\nsocketFile = /tmp/a.sock\nsocketPort = 8080\n')).to.match(
      /socketFile \(\S*t\d+\.cfg line 2\) conflicts with socketPort \(\S*t\d+\.cfg line 3\): a server listens on a unix socket or on TCP, not both/,
    );
    expect(configFailure('[server]\nsocketHost = 0.0.0.0\nsocketFile = /tmp/a.sock\n')).to.match(/socketFile \(\S*t\d+\.cfg line 3\) conflicts with socketHost \(\S*t\d+\.cfg line 2\)/);
  });

  it('any two concurrency models', () => {
    const set: Record<string, string> = { threading: 'true', forking: 'yes', processPool: '2', threadPool: '4' };
    for (let i = 0; i < MODE_OPTIONS.length; i++) {
      for (let j = i + 1; j < MODE_OPTIONS.length; j++) {
        const [a, b] = [MODE_OPTIONS[i], MODE_OPTIONS[j]];
        const msg = configFailure(`[server]\n${a} = ${set[a]}\n${b} = ${set[b]}\n`);
        expect(msg).to.match(new RegExp(`${a} \\(\\S*t\\d+\\.cfg line 2\\) conflicts with ${b} \\(\\S*t\\d+\\.cfg line 3\\): choose one concurrency model`));
      }
    }
  });

  it('a mode set to 0 or false does not count', () => {
    const c = load('[server]\nthreading = false\nforking = 0\nprocessPool = 0\nthreadPool = 4\n');
    expect(modeOf(c.server)).to.equal('threadPool');
  });

  it('HTTPS needs both files; http2 and TLS do not go with fastcgi/scgi; headerTimeout <= requestTimeout', () => {
    expect(configFailure('[server]\nsslKeyFile = k.pem\n')).to.match(/line 2: sslKeyFile is set but sslCertificateFile is not: HTTPS needs both/);
    expect(configFailure('[server]\nprotocol = fastcgi\nhttp2 = on\n')).to.match(/protocol \(\S*t\d+\.cfg line 2\) conflicts with http2 \(\S*t\d+\.cfg line 3\): http2 applies to protocol = http only/);
    expect(load('[server]\nprotocol = scgi\nhttp2 = off\n').server.protocol).to.equal('scgi');
    expect(configFailure('[server]\nprotocol = auto\nsslKeyFile = k.pem\nsslCertificateFile = c.pem\n')).to.match(/protocol \(\S*t\d+\.cfg line 2\) conflicts with sslKeyFile .*protocol = auto cannot see through TLS/);
    expect(configFailure('[server]\nheaderTimeout = 30\nrequestTimeout = 10\n')).to.match(/headerTimeout \(\S*t\d+\.cfg line 2\) conflicts with requestTimeout \(\S*t\d+\.cfg line 3\)/);
  });

  it('the command line overrides the file; conflicts across them name both places', () => {
    const c = load('[server]\nsocketPort = 8080\nheaderTimeout = 20\n', ['--socket-port', '9000', '--header-timeout=3']);
    expect(c.server.socketPort).to.equal(9000);
    expect(c.sources.socketPort).to.deep.equal({ kind: 'cli', flag: '--socket-port' });
    expect(c.server.headerTimeout).to.equal(3);

    expect(configFailure('[server]\nsocketFile = /tmp/a.sock\n', ['--socket-port', '9000'])).to.match(
      /socketFile \(\S*t\d+\.cfg line 2\) conflicts with socketPort \(command line --socket-port\)/,
    );
    expect(configFailure('[server]\nthreadPool = 4\n', ['--process-pool', '2'])).to.match(
      /processPool \(command line --process-pool\) conflicts with threadPool \(\S*t\d+\.cfg line 2\)/,
    );
    // Setting the file's mode to 0 on the command line switches it off.
    expect(modeOf(load('[server]\nthreadPool = 4\n', ['--process-pool', '2', '--thread-pool', '0']).server)).to.equal('processPool');
  });

  it('--bind and --socket replace the address of the file; together they conflict', () => {
    const a = load('[server]\nsocketFile = /tmp/a.sock\n', ['--bind', '0.0.0.0:9000']);
    expect([a.server.socketFile, a.server.socketHost, a.server.socketPort]).to.deep.equal([undefined, '0.0.0.0', 9000]);
    const b = load('[server]\nsocketHost = 0.0.0.0\nsocketPort = 8080\n', ['--socket', '/tmp/b.sock']);
    expect([b.server.socketFile, b.server.socketHost, b.server.socketPort]).to.deep.equal(['/tmp/b.sock', '127.0.0.1', 8080]);
    expect(configFailure(undefined, ['--bind', ':9000', '--socket', '/tmp/c.sock'])).to.match(
      /socketFile \(command line --socket\) conflicts with socketPort \(command line --bind\)/,
    );
    // A bad value in the file is still reported, even where the command line overrides it.
    expect(configFailure('[server]\nsocketPort = 80x0\n', ['--bind', ':9000'])).to.match(/line 2: socketPort must be an integer/);
  });
});

describe('config: the command line', () => {
  it('--bind forms', () => {
    const parse = (v: string): Partial<ServerConfig> => {
      const s = resolveConfig({ cli: { settings: bindSettings(v) } }).server;
      return { socketHost: s.socketHost, socketPort: s.socketPort, socketFile: s.socketFile };
    };
    expect(parse('0.0.0.0:9000')).to.deep.equal({ socketHost: '0.0.0.0', socketPort: 9000, socketFile: undefined });
    expect(parse('[::1]:9001')).to.deep.equal({ socketHost: '::1', socketPort: 9001, socketFile: undefined });
    expect(parse(':9002')).to.deep.equal({ socketHost: '127.0.0.1', socketPort: 9002, socketFile: undefined });
    expect(parse('9003')).to.deep.equal({ socketHost: '127.0.0.1', socketPort: 9003, socketFile: undefined });
    expect(parse('localhost')).to.deep.equal({ socketHost: 'localhost', socketPort: 8080, socketFile: undefined });
    expect(parse('unix:/tmp/x.sock')).to.deep.equal({ socketHost: '127.0.0.1', socketPort: 8080, socketFile: '/tmp/x.sock' });
    expect(() => parse('::1:80')).to.throw(TsgiError, /write an IPv6 address in brackets/);
    expect(() => parse('host:80x0')).to.throw(TsgiError, /command line --bind: socketPort must be an integer 0-65535/);
  });

  it('boolean flags: bare, --no-, =value and a following boolean word', () => {
    const run = (...argv: string[]): ServerConfig => loadConfig(undefined, { settings: (parseArgs(argv) as unknown as { settings: never[] }).settings }).server;
    expect(run('--http2', 'app.js').http2).to.equal(true);
    expect(run('app.js', '--http2', 'off').http2).to.equal(false);
    expect(run('app.js', '--http2=yes').http2).to.equal(true);
    expect(run('app.js', '--http2', '--no-http2').http2).to.equal(false);
    expect(run('app.js', '--socketPort', '7000').socketPort).to.equal(7000); // the file's name works as a flag too
  });

  it('usage errors', () => {
    const fail = (...argv: string[]): string => {
      try {
        parseArgs(argv);
      } catch (err) {
        expect(isTsgiError(err, 'TSGI_ERR_CONFIG')).to.equal(true);
        return (err as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(fail('app.js', '--socket-prot', '1')).to.match(/unknown option --socket-prot; did you mean --socket-port\?/);
    expect(fail('app.js', '--socket-port')).to.match(/--socket-port needs a value/);
    expect(fail()).to.match(/no application given/);
    expect(fail('a.js', 'b.js')).to.match(/one application expected/);
    expect(fail('a.js', '-C', 'x.cfg', '-C', 'y.cfg')).to.match(/only one config file/);
    expect(parseArgs(['--help'])).to.deep.equal({ kind: 'help' });
    expect(parseArgs(['-v'])).to.deep.equal({ kind: 'version' });
    expect(parseArgs(['app.js:make()', '-C', 'x.cfg'])).to.deep.include({ kind: 'run', appSpec: 'app.js:make()', configFile: 'x.cfg' });
  });
});

describe('app loader: MODULE[:EXPORT]', () => {
  it('splits MODULE, EXPORT and a factory call', () => {
    expect(parseAppSpec('dist/app.js')).to.deep.include({ module: 'dist/app.js', exportName: undefined, factory: false });
    expect(parseAppSpec('dist/app.js:main')).to.deep.include({ module: 'dist/app.js', exportName: 'main', factory: false });
    expect(parseAppSpec('my-pkg:createApp()')).to.deep.include({ module: 'my-pkg', exportName: 'createApp', factory: true });
    expect(parseAppSpec('C:\\apps\\app.js')).to.deep.include({ module: 'C:\\apps\\app.js', exportName: undefined });
  });

  it('finds a file from cwd, prefers app over default, and refuses a package that is not installed', async () => {
    const echo = await loadApp('dist/examples/echo-environ/app.js', ROOT);
    expect(echo).to.be.a('function');
    const mod = (await import(ECHO)) as { app: unknown };
    expect(echo).to.equal(mod.app);
    let caught: unknown;
    try {
      await loadApp('no-such-package-for-tsgi-tests', ROOT);
    } catch (err) {
      caught = err;
    }
    expect(isTsgiError(caught, 'TSGI_ERR_APP_LOAD')).to.equal(true);
    expect((caught as Error).message).to.match(/^no-such-package-for-tsgi-tests: is neither a file under .* nor an installed package/);
  });
});

describe('config: [app] and examples/server.cfg', () => {
  it('[app] values are strings, whatever they look like', () => {
    const c = load('[app]\ngreeting = "hello world"\ndebug = true\nempty =\ndb.url = postgres://x/y ; comment\n');
    expect(c.app).to.deep.equal({ greeting: 'hello world', debug: 'true', empty: '', 'db.url': 'postgres://x/y' });
    expect(Object.isFrozen(c.app)).to.equal(true);
  });

  it('examples/server.cfg loads', () => {
    const c = loadConfig(path.join(ROOT, 'examples/server.cfg'));
    expect(c.server.socketPort).to.equal(8080);
    expect(c.app.greeting).to.equal('Hello from server.cfg');
    expect(readConfigFile(path.join(ROOT, 'examples/server.cfg')).settings.length).to.be.greaterThan(3);
  });
});

describe('config: serve()', () => {
  let running: Running | undefined;
  const logs = new MemoryLog();
  afterEach(async () => {
    await running?.close(500);
    running = undefined;
  });

  it('[app] reaches the app as tsgi.app_config', async () => {
    const config = load('[server]\nsocketPort = 0\n[app]\ngreeting = hi\nlimit = 10\n');
    running = await serve({ config, app: ECHO, log: new ErrorLog(logs) });
    expect(running.mode).to.equal('single');
    const res = await fetch(running.url + '/x');
    const body = (await res.json()) as { environ: Record<string, unknown> };
    expect(body.environ['tsgi.app_config']).to.deep.equal({ greeting: 'hi', limit: '10' });
  });

  it('scriptName from the config mounts the app', async () => {
    running = await serve({ config: load('[server]\nsocketPort = 0\nscriptName = /mnt\n'), app: ECHO, log: new ErrorLog(logs) });
    const body = (await (await fetch(running.url + '/mnt/a')).json()) as { environ: Record<string, unknown> };
    expect([body.environ.SCRIPT_NAME, body.environ.PATH_INFO]).to.deep.equal(['/mnt', '/a']);
    expect((await fetch(running.url + '/other')).status).to.equal(404);
  });

  it('a mode, protocol or feature nobody built answers TSGI_ERR_NOT_YET naming the option, before loading the app', async () => {
    // Everything is built today, so each registry entry is taken out in turn (as a build without it would
    // be) and put back: every mode, protocol and feature name runs the real "not yet" path once.
    const registries = [MODES, FRONTS, FEATURES] as unknown as Record<string, unknown>[];
    const modeValue: Record<string, string> = { threading: 'true', forking: 'true', processPool: '2', threadPool: '2' };
    const cases: [Record<string, unknown>, string, string, RegExp][] = [];
    for (const m of MODE_OPTIONS) cases.push([registries[0], m, `${m} = ${modeValue[m]}`, new RegExp(`^${m} = \\S+ \\(\\S*t\\d+\\.cfg line 2\\): the ${m} concurrency model is not available`)]);
    for (const p of Object.keys(FRONTS)) cases.push([registries[1], p, `protocol = ${p}`, new RegExp(`^protocol = ${p} \\(\\S*t\\d+\\.cfg line 2\\): protocol ${p} is not available`)]);
    for (const f of Object.keys(FEATURES)) cases.push([registries[2], f, `${f} = true`, new RegExp(`^${f} = true \\(\\S*t\\d+\\.cfg line 2\\): ${f} is not available`)]);
    expect(cases.length).to.be.greaterThan(MODE_OPTIONS.length);
    for (const [registry, name, line, re] of cases) {
      const saved = registry[name];
      registry[name] = undefined;
      let caught: unknown;
      try {
        // A module that does not exist: the "not yet" answer must come first.
        running = await serve({ config: load(`[server]\n${line}\n`), app: path.join(dir, 'missing.js') });
      } catch (err) {
        caught = err;
      } finally {
        registry[name] = saved;
      }
      expect(isTsgiError(caught, 'TSGI_ERR_NOT_YET'), `${line}: ${String(caught)}`).to.equal(true);
      expect((caught as Error).message, line).to.match(re);
    }
  });

  it('a concurrency model plugs in by name without touching the parser', async () => {
    const before = MODES.threadPool;
    let sawPool = 0;
    const fake: ModeRunner = async (ctx) => {
      sawPool = ctx.config.server.threadPool;
      const handle = await MODES.single!(ctx);
      return handle;
    };
    registerMode('threadPool', fake);
    try {
      running = await serve({ config: load('[server]\nsocketPort = 0\nthreadPool = 3\n'), app: ECHO, log: new ErrorLog(logs) });
      expect(running.mode).to.equal('threadPool');
      expect(sawPool).to.equal(3);
      expect((await fetch(running.url)).status).to.equal(200);
    } finally {
      MODES.threadPool = before;
    }
  });

  it('pidFile is written while serving and removed on close', async () => {
    const pid = path.join(dir, 'tsgi.pid');
    running = await serve({ config: load(`[server]\nsocketPort = 0\npidFile = ${pid}\n`), app: ECHO, log: new ErrorLog(logs) });
    const { readFileSync, existsSync } = await import('node:fs');
    expect(readFileSync(pid, 'utf8')).to.equal(`${process.pid}\n`);
    await running.close(500);
    running = undefined;
    expect(existsSync(pid)).to.equal(false);
  });
});
