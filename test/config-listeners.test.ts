/**
 * `[server:NAME]` listener sections: what they parse to, which options they may hold (the option table's
 * scope), the errors an operator sees (file, line, option, fix), conflicts inside one section and between
 * listeners, the thread-queue options, and where the generated docs say all of this.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { isTsgiError, TsgiError } from '../app-api/errors.js';
import { parseArgs } from '../gateway/config/argv.js';
import { renderConfigReference } from '../gateway/docs.js';
import { helpText } from '../gateway/config/help.js';
import { loadConfig } from '../gateway/config/load.js';
import { defaultServerConfig, OPTIONS } from '../gateway/config/options.js';
import { listenersOf, type Config } from '../gateway/config/resolve.js';
import { checkAvailable } from '../gateway/serve.js';

let dir: string;
let n = 0;

function cfg(text: string): string {
  const file = path.join(dir, `l${++n}.cfg`);
  writeFileSync(file, text);
  return file;
}

function load(text: string, argv: string[] = []): Config {
  const args = parseArgs(['app.js', ...argv]);
  if (args.kind !== 'run') throw new Error('not a run');
  return loadConfig(cfg(text), { settings: args.settings });
}

/** The message of the TsgiError with `code` that `fn` throws. */
function failure(fn: () => unknown, code: 'TSGI_ERR_CONFIG' | 'TSGI_ERR_NOT_YET' = 'TSGI_ERR_CONFIG'): string {
  try {
    fn();
  } catch (err) {
    expect(isTsgiError(err, code), String(err)).to.equal(true);
    return (err as TsgiError).message;
  }
  throw new Error(`expected a ${code} error`);
}

const configFailure = (text: string, argv: string[] = []): string => failure(() => load(text, argv));

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tsgi-listeners-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('config: [server:NAME] listener sections', () => {
  it('adds one listener per section, [server] first, with process options from [server] and listener options from the defaults', () => {
    const c = load(
      [
        '[server]', // 1
        'socketHost = 0.0.0.0',
        'socketPort = 8080',
        'threadPool = 8',
        'headerTimeout = 5', // 5
        'gracefulTimeout = 12',
        '',
        '[server:admin]', // 8
        'socketFile = /run/tsgi/admin.sock',
        'statusPath = /server-status', // 10
        'statusAllow = *',
        '',
        '[server:nginx]', // 13
        'protocol = scgi',
        'socketPort = 9000', // 15
        'scriptName = /app',
        '',
        '[app]',
        'greeting = hi',
      ].join('\n'),
    );
    const ls = listenersOf(c);
    expect(ls.map((l) => [l.name, l.section])).to.deep.equal([
      ['server', '[server]'],
      ['admin', '[server:admin]'],
      ['nginx', '[server:nginx]'],
    ]);
    // The first listener is [server] itself.
    expect(ls[0].server).to.equal(c.server);
    expect(c.server.socketPort).to.equal(8080);

    const admin = ls[1].server;
    expect(admin.socketFile).to.equal('/run/tsgi/admin.sock');
    expect(admin.statusPath).to.equal('/server-status');
    expect(admin.statusAllow).to.equal('*');
    // Listener options start from the defaults, not from [server]...
    expect(admin.headerTimeout).to.equal(defaultServerConfig().headerTimeout);
    expect(admin.socketHost).to.equal('127.0.0.1');
    // ...while process options are the process's.
    expect(admin.threadPool).to.equal(8);
    expect(admin.gracefulTimeout).to.equal(12);
    expect(ls[1].sources.socketFile).to.deep.include({ kind: 'file', line: 9 });
    expect(ls[1].header).to.deep.include({ kind: 'file', line: 8 });

    const nginx = ls[2].server;
    expect([nginx.protocol, nginx.socketHost, nginx.socketPort, nginx.scriptName]).to.deep.equal(['scgi', '127.0.0.1', 9000, '/app']);
    expect(c.server.protocol).to.equal('http');
    expect(c.server.scriptName).to.equal('');
    expect(c.app).to.deep.equal({ greeting: 'hi' });
  });

  it('a config without listener sections (or built by hand) has the one listener of [server]', () => {
    const c = load('[server]\nsocketPort = 9090\n');
    expect(listenersOf(c)).to.have.length(1);
    expect(listenersOf(c)[0].server).to.equal(c.server);
    const byHand: Config = { server: defaultServerConfig(), app: {}, sources: {} };
    expect(listenersOf(byHand).map((l) => l.section)).to.deep.equal(['[server]']);
  });

  it('a process option in a listener section names the file, the line, the option and says to move it to [server]', () => {
    for (const [line, setting] of [
      [3, 'threadPool = 4'],
      [3, 'gracefulTimeout = 10'],
      [3, 'pidFile = /run/tsgi.pid'],
      [3, 'maxRequests = 100'],
      [3, 'threadQueueSize = 10'],
      [3, 'metricsListen = 9100'],
      [3, 'fixedNumberOfProcesses = 2'],
    ] as const) {
      const msg = configFailure(`[server:admin]\nsocketFile = /tmp/a.sock\n${setting}\n`);
      const option = setting.split(' ')[0];
      expect(msg, setting).to.match(new RegExp(`l\\d+\\.cfg line ${line}: ${option} applies to the whole process, not to one listener`));
      expect(msg, setting).to.include('move it to [server]');
    }
  });

  it('every option of the table is either listener or process scope, and each listener option is accepted in a listener section', () => {
    for (const o of OPTIONS) expect(['listener', 'process'], o.name).to.include(o.scope);
    const listenerOptions = OPTIONS.filter((o) => o.scope === 'listener').map((o) => o.name);
    expect(listenerOptions).to.include.members(['socketHost', 'socketPort', 'socketFile', 'protocol', 'sslKeyFile', 'http2', 'scriptName', 'headerTimeout', 'statusPath', 'statusAllow']);
    expect(OPTIONS.filter((o) => o.scope === 'process').map((o) => o.name)).to.include.members(['threading', 'forking', 'processPool', 'threadPool', 'gracefulTimeout', 'pidFile', 'errorLog', 'maxRequests', 'workerTimeout']);
    const c = load('[server:tls]\nsocketPort = 8443\nsslKeyFile = /k.pem\nsslCertificateFile = /c.pem\nhttp2 = on\nreverseDNS = yes\nkeepAliveTimeout = 2\nrequestTimeout = 60\nidleTimeout = 9\nsocketQueueSize = 64\n');
    const tls = listenersOf(c)[1].server;
    expect([tls.sslKeyFile, tls.http2, tls.reverseDNS, tls.keepAliveTimeout, tls.requestTimeout, tls.idleTimeout, tls.socketQueueSize]).to.deep.equal(['/k.pem', true, true, 2, 60, 9, 64]);
    expect(c.server.http2).to.equal(false);
  });

  it('unknown options, bad values, duplicates and bad section names in listener sections', () => {
    expect(configFailure('[server:admin]\nsocketPrt = 1\n')).to.match(/line 2: unknown option socketPrt in \[server:admin\]; did you mean socketPort\?/);
    expect(configFailure('[server:admin]\nsocketPort = 80x\n')).to.match(/line 2: socketPort must be an integer 0-65535, got "80x"/);
    expect(configFailure('[server:admin]\nsocketPort = 81\nsocketPort = 82\n')).to.match(/line 3: socketPort is set again \(first on line 2\); keep one/);
    // The same option in two sections is two listeners, not a duplicate.
    expect(listenersOf(load('[server]\nsocketPort = 81\n[server:b]\nsocketPort = 82\n')).map((l) => l.server.socketPort)).to.deep.equal([81, 82]);
    expect(configFailure('[server:]\n')).to.match(/line 1: \[server:\] is not a valid listener section: the name after server: is letters, digits, _ and -/);
    expect(configFailure('[server:a b]\nsocketPort = 1\n')).to.match(/\[server:a b\] is not a valid listener section/);
    expect(configFailure('[server:a.b]\nsocketPort = 1\n')).to.match(/\[server:a\.b\] is not a valid listener section/);
    expect(configFailure('[srver:a]\n')).to.match(/line 1: unknown section \[srver:a\];.*\[server:NAME\] adds a listener/);
  });

  it('a listener section must say where to listen', () => {
    expect(configFailure('[server]\nsocketPort = 0\n\n[server:scgi]\nprotocol = scgi\n')).to.match(
      /line 4: \[server:scgi\] does not say where to listen; set socketPort \(and socketHost\) or socketFile in it/,
    );
  });

  it('conflicts inside one listener section name both options and lines; [server] and a listener do not conflict with each other', () => {
    expect(configFailure('[server]\nsocketPort = 0\n[server:admin]\nsocketFile = /tmp/x.sock\nsocketPort = 9000\n')).to.match(
      /socketFile \(.*line 4\) conflicts with socketPort \(.*line 5\): a server listens on a unix socket or on TCP, not both/,
    );
    expect(configFailure('[server:tls]\nsocketPort = 8443\nsslKeyFile = /k.pem\n')).to.match(/line 3: sslKeyFile is set but sslCertificateFile is not/);
    expect(configFailure('[server:s]\nsocketPort = 9000\nprotocol = scgi\nhttp2 = on\n')).to.match(/protocol \(.*line 3\) conflicts with http2 \(.*line 4\)/);
    expect(configFailure('[server:s]\nsocketPort = 9000\nheaderTimeout = 30\nrequestTimeout = 10\n')).to.match(/headerTimeout \(.*line 3\) conflicts with requestTimeout \(.*line 4\)/);
    // [server] on TCP and a listener on a unix socket: two sections, no conflict.
    const c = load('[server]\nsocketPort = 8080\n[server:admin]\nsocketFile = /tmp/x.sock\n');
    expect(listenersOf(c).map((l) => l.server.socketFile)).to.deep.equal([undefined, '/tmp/x.sock']);
  });

  it('two listeners on one address: an error naming both sections and where each address was set', () => {
    expect(configFailure('[server]\nsocketPort = 9000\n\n[server:admin]\nsocketPort = 9000\n')).to.match(
      /^configuration: \[server:admin\] \(\S*l\d+\.cfg line 5\) and \[server\] \(\S*l\d+\.cfg line 2\) both listen on 127\.0\.0\.1:9000: each listener needs its own address; change socketPort in one of them$/,
    );
    // [server] on its default port.
    expect(configFailure('[server:b]\nsocketPort = 8080\n')).to.match(/\[server:b\] \(.*line 2\) and \[server\] \(the default address\) both listen on 127\.0\.0\.1:8080/);
    // A wildcard host covers the specific one on the same port.
    expect(configFailure('[server]\nsocketHost = 0.0.0.0\nsocketPort = 9000\n[server:b]\nsocketPort = 9000\n')).to.match(/both listen on 127\.0\.0\.1:9000 \(0\.0\.0\.0:9000 covers it\)/);
    expect(configFailure('[server]\nsocketPort = 9000\n[server:b]\nsocketHost = ::\nsocketPort = 9000\n')).to.match(/both listen on \[::\]:9000/);
    // The same unix socket, written two ways.
    expect(configFailure(`[server:a]\nsocketFile = ${dir}/s.sock\n[server:b]\nsocketFile = ${dir}/./s.sock\n`)).to.match(/\[server:b\] \(.*line 4\) and \[server:a\] \(.*line 2\) both listen on unix:.*change socketFile in one of them/);
    // The command line moves [server]: the clash is reported against the flag.
    expect(configFailure('[server:b]\nsocketPort = 9000\n', ['--bind', '127.0.0.1:9000'])).to.match(/\[server:b\] \(.*line 2\) and \[server\] \(command line --bind\) both listen on 127\.0\.0\.1:9000/);
  });

  it('listeners that can share a machine are accepted: port 0 twice, different hosts, IPv4 wildcard and an IPv6 address', () => {
    expect(listenersOf(load('[server]\nsocketPort = 0\n[server:b]\nsocketPort = 0\n'))).to.have.length(2);
    expect(listenersOf(load('[server]\nsocketHost = 127.0.0.1\nsocketPort = 9000\n[server:b]\nsocketHost = 127.0.0.2\nsocketPort = 9000\n'))).to.have.length(2);
    expect(listenersOf(load('[server]\nsocketHost = 0.0.0.0\nsocketPort = 9000\n[server:b]\nsocketHost = ::1\nsocketPort = 9000\n'))).to.have.length(2);
  });

  it('command-line flags set [server] only', () => {
    const c = load('[server]\nsocketPort = 9000\nheaderTimeout = 5\n[server:b]\nsocketPort = 9100\n', ['--socket-port', '9001', '--header-timeout', '7', '--thread-pool', '2']);
    const [main, b] = listenersOf(c).map((l) => l.server);
    expect([main.socketPort, main.headerTimeout, main.threadPool]).to.deep.equal([9001, 7, 2]);
    // The listener keeps its own address and default timeouts; the process option reaches it.
    expect([b.socketPort, b.headerTimeout, b.threadPool]).to.deep.equal([9100, 20, 2]);
  });

  it('several listeners under processPool or forking are accepted: each listener reaches the workers with its own settings', () => {
    for (const mode of ['processPool = 2', 'forking = on']) {
      const c = load(`[server]\nsocketPort = 0\n${mode}\n\n[server:admin]\nsocketFile = ${dir}/admin.sock\nscriptName = /admin\nstatusPath = /admin/status\n`);
      expect(() => checkAvailable(c)).not.to.throw();
      const [main, admin] = listenersOf(c);
      expect([main.section, admin.section]).to.deep.equal(['[server]', '[server:admin]']);
      expect(admin.server).to.deep.include({ socketFile: `${dir}/admin.sock`, scriptName: '/admin', statusPath: '/admin/status' });
    }
    // A status page on a listener is checked like one on [server].
    const c = load(`[server]\nsocketPort = 0\nthreadPool = 2\n[server:admin]\nsocketFile = ${dir}/admin.sock\nstatusPath = /status\n`);
    expect(() => checkAvailable(c)).not.to.throw();
  });
});

describe('config: the thread-queue options', () => {
  it('threadQueueSize and threadQueueWait parse, default to 256 and 0, and reject bad values with the line', () => {
    expect([defaultServerConfig().threadQueueSize, defaultServerConfig().threadQueueWait]).to.deep.equal([256, 0]);
    const c = load('[server]\nthreadPool = 2\nthreadQueueSize = 0\n');
    expect(c.server.threadQueueSize).to.equal(0);
    expect(load('[server]\nthreadQueueWait = 0.25\n').server.threadQueueWait).to.equal(0.25);
    expect(configFailure('[server]\nthreadQueueSize = -1\n')).to.match(/line 2: threadQueueSize must be an integer 0-1000000, got "-1"/);
    expect(configFailure('[server]\nthreadQueueWait = soon\n')).to.match(/line 2: threadQueueWait must be a number of seconds of at least 0, got "soon"/);
    expect(load('', ['--thread-queue-size', '3', '--thread-queue-wait', '1.5']).server).to.deep.include({ threadQueueSize: 3, threadQueueWait: 1.5 });
  });

  it('threadBatch parses, defaults to 16, and refuses 0 with the line and the range', () => {
    expect(defaultServerConfig().threadBatch).to.equal(16);
    expect(load('[server]\nthreadPool = 2\nthreadBatch = 1\n').server.threadBatch).to.equal(1);
    expect(configFailure('[server]\nthreadBatch = 0\n')).to.match(/line 2: threadBatch must be an integer 1-256, got "0"/);
    expect(load('', ['--thread-batch', '4']).server.threadBatch).to.equal(4);
  });

  it('a queue-wait limit on a queue that holds nothing is refused, naming both options', () => {
    expect(configFailure('[server]\nthreadQueueSize = 0\nthreadQueueWait = 2\n')).to.match(
      /threadQueueWait \(.*line 3\) conflicts with threadQueueSize \(.*line 2\): with threadQueueSize = 0 no request waits for a thread/,
    );
  });
});

describe('config: the generated docs say which options a listener takes', () => {
  it('the README reference has a scope column with every option, and explains [server:NAME]', () => {
    const ref = renderConfigReference();
    expect(ref).to.include('| option (`[server]`) | command line | type | default | scope | what it does |');
    expect(ref).to.include('`[server:NAME]`');
    for (const o of OPTIONS) expect(ref, o.name).to.match(new RegExp(`\\| \`${o.name}\` \\|[^\\n]*\\| ${o.scope} \\|`));
    // The worker options say they apply to the thread modes too.
    const row = (name: string): string => ref.split('\n').find((l) => l.startsWith(`| \`${name}\``))!;
    expect(row('workerTimeout')).to.match(/threadPool and threading/);
    expect(row('maxRequests')).to.match(/threadPool/);
    expect(row('maxRequestsJitter')).to.match(/threadPool/);
    expect(row('maxChildren')).to.match(/threading/);
    expect(row('threadQueueSize')).to.match(/503/);
  });

  it('--help marks the per-listener options', () => {
    const help = helpText();
    expect(help).to.include('[server:NAME]');
    expect(help).to.match(/socketFile:[^]*?Per listener\./);
    expect(help).not.to.match(/threadPool:[^-]*Per listener\./);
  });
});
