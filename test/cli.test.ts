/**
 * The `tsgi` command, spawned for real (`node dist/gateway/cli.js`): it serves, documents every option,
 * exits 2 on config errors and 1 on app-load errors with one clear line, stops gracefully on SIGTERM with a
 * request in flight, listens on a unix socket, and hands the config file's [app] section to the app.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { OPTIONS } from '../gateway/config/options.js';
import { installSignalHandlers } from '../gateway/signals.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/gateway/cli.js');
const HELLO = 'dist/examples/hello/app.js';
const ECHO = 'dist/examples/echo-environ/app.js';
const FIXTURES = 'dist/test/fixtures/cli';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned `tsgi` process. */
interface Tsgi {
  proc: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the start line's URL; rejects if the process exits first. */
  started: Promise<string>;
  exited: Promise<Exit>;
}

const children: ChildProcess[] = [];

function tsgi(args: string[], nodeArgs: string[] = []): Tsgi {
  const proc = spawn(process.execPath, [...nodeArgs, CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<Exit>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const started = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line within 20 s; stderr: ${stderr}`)), 20_000);
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /^tsgi: serving \S+ on (\S+) \(/m.exec(stderr);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`tsgi exited (${e.code ?? e.signal}) before serving; stderr: ${stderr}`));
    });
  });
  started.catch(() => {}); // tests that expect an early exit never await it
  return {
    proc,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    started,
    exited,
  };
}

/** GET over TCP (`http://host:port/path`) or a unix socket (`unix:/path` + urlPath). */
function get(url: string, urlPath = '/'): Promise<{ status: number; body: string }> {
  const target = url.startsWith('unix:') ? { socketPath: url.slice('unix:'.length), path: urlPath } : { ...urlParts(url), path: urlPath };
  return new Promise((resolve, reject) => {
    const req = http.request({ ...target, method: 'GET', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function urlParts(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
}

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tsgi-cli-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((resolve) => c.once('exit', resolve));
    }
  }
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('cli: tsgi MODULE', () => {
  it('serves hello on a free port, prints one start line, exits 0 on SIGTERM', async () => {
    const t = tsgi([HELLO, '--bind', '127.0.0.1:0']);
    const url = await t.started;
    expect(t.stderr).to.match(new RegExp(`^tsgi: serving ${HELLO} on http://127\\.0\\.0\\.1:\\d+ \\(single, pid ${t.proc.pid}\\)\\n`));
    expect(await get(url, '/')).to.deep.equal({ status: 200, body: 'Hello, world!\n' });
    t.proc.kill('SIGTERM');
    expect(await t.exited).to.deep.equal({ code: 0, signal: null });
  });

  it('--help documents every option of the table; --version prints the package version', async () => {
    const h = tsgi(['--help']);
    expect(await h.exited).to.deep.equal({ code: 0, signal: null });
    expect(h.stdout).to.match(/^Usage: tsgi MODULE\[:EXPORT\] \[-C FILE\.cfg\] \[--bind HOST:PORT \| --socket PATH\]/);
    for (const o of OPTIONS) {
      expect(h.stdout, o.name).to.include(o.cli);
      expect(h.stdout, o.name).to.include(`${o.name}:`);
    }
    const v = tsgi(['--version']);
    expect(await v.exited).to.deep.equal({ code: 0, signal: null });
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(v.stdout).to.equal(`tsgi ${pkg.version}\n`);
  });

  it('MODULE:EXPORT picks an export; EXPORT() calls a factory', async () => {
    const named = tsgi([`${FIXTURES}/apps.js:named`, '--bind', '127.0.0.1:0']);
    expect((await get(await named.started)).body).to.equal('named export\n');
    const made = tsgi([`${FIXTURES}/apps.js:createApp()`, '--bind', '127.0.0.1:0']);
    expect((await get(await made.started)).body).to.equal('built by createApp()\n');
  });
});

describe('cli: errors print one line and exit 2 (config) or 1 (app)', () => {
  it('a bad value in the config file: exit 2 naming the file, line, option and valid form', async () => {
    const file = path.join(dir, 'bad.cfg');
    writeFileSync(file, '[server]\n\nsocketPort = 80x0\n');
    const t = tsgi([HELLO, '-C', file]);
    expect(await t.exited).to.deep.equal({ code: 2, signal: null });
    expect(t.stderr).to.equal(`tsgi: TSGI_ERR_CONFIG: ${file} line 3: socketPort must be an integer 0-65535, got "80x0"; write socketPort that way, or remove it to use the default\n`);
  });

  it('an unknown flag: exit 2 with the nearest flag', async () => {
    const t = tsgi([HELLO, '--socket-prot', '1']);
    expect(await t.exited).to.deep.equal({ code: 2, signal: null });
    expect(t.stderr).to.equal('tsgi: TSGI_ERR_CONFIG: command line: unknown option --socket-prot; did you mean --socket-port?\n');
  });

  it('a protocol that is not built yet: exit 2 with TSGI_ERR_NOT_YET', async () => {
    // Every protocol is built, so a preload takes SCGI out of the registry first (fixtures/cli/unbuilt-scgi).
    const t = tsgi([HELLO, '--protocol', 'scgi', '--bind', '127.0.0.1:0'], ['--import', `./${FIXTURES}/unbuilt-scgi.js`]);
    expect(await t.exited).to.deep.equal({ code: 2, signal: null });
    expect(t.stderr).to.match(/^tsgi: TSGI_ERR_NOT_YET: protocol = scgi \(command line --protocol\): .*not available.*\n$/);
  });

  it('the app cannot be loaded: exit 1 with TSGI_ERR_APP_LOAD', async () => {
    const cases: [string, RegExp][] = [
      ['dist/nope.js', /^tsgi: TSGI_ERR_APP_LOAD: dist\/nope\.js: no such file .*nope\.js; give a path relative to .*\n$/],
      [`${FIXTURES}/no-app.js`, /^tsgi: TSGI_ERR_APP_LOAD: .*no-app\.js: exports neither app nor default; add `export const app = /],
      [`${FIXTURES}/apps.js:notAnApp`, /^tsgi: TSGI_ERR_APP_LOAD: .*apps\.js:notAnApp: notAnApp is a number, not an app/],
      [`${FIXTURES}/apps.js:missing`, /^tsgi: TSGI_ERR_APP_LOAD: .*apps\.js:missing: has no export missing; name one of its function exports: /],
      [`${FIXTURES}/broken-app.js`, /^tsgi: TSGI_ERR_APP_LOAD: .*broken-app\.js: importing it failed: broken-app: this module fails at import time; fix what the module does when imported \(node MODULE shows the stack\)\n/],
      ['examples/hello/app.ts', /^tsgi: TSGI_ERR_APP_LOAD: examples\/hello\/app\.ts: is TypeScript, which Node cannot import; build it/],
    ];
    const runs = cases.map(([spec]) => tsgi([spec, '--bind', '127.0.0.1:0']));
    for (let i = 0; i < cases.length; i++) {
      const [spec, re] = cases[i];
      expect(await runs[i].exited, spec).to.deep.equal({ code: 1, signal: null });
      expect(runs[i].stderr, spec).to.match(re);
    }
  });

  it('the port is taken: exit 1 with a line saying what to change', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      const t = tsgi([HELLO, '--bind', `127.0.0.1:${port}`]);
      expect(await t.exited).to.deep.equal({ code: 1, signal: null });
      expect(t.stderr).to.equal(`tsgi: EADDRINUSE: 127.0.0.1:${port} is already in use; stop the other server or choose another address with --bind / socketPort\n`);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});

describe('cli: serving', () => {
  it('SIGTERM during a slow request: the request completes, then the process exits 0', async () => {
    const t = tsgi([`${FIXTURES}/slow-app.js`, '--bind', '127.0.0.1:0', '--graceful-timeout', '20']);
    const url = await t.started;
    const response = get(url, '/slow');
    // Signal only once the app is running the request.
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (t.stderr.includes('slow-app: request started')) resolve();
        else if (t.proc.exitCode !== null) reject(new Error(t.stderr));
        else setTimeout(check, 20);
      };
      check();
    });
    t.proc.kill('SIGTERM');
    expect(await response).to.deep.equal({ status: 200, body: 'finished after SIGTERM\n' });
    expect(await t.exited).to.deep.equal({ code: 0, signal: null });
    expect(t.stderr).to.include('tsgi: SIGTERM: stopping');
  });

  it('--socket PATH listens on a unix socket', async () => {
    const sock = path.join(dir, 'tsgi.sock');
    const t = tsgi([HELLO, '--socket', sock]);
    const url = await t.started;
    expect(url).to.equal(`unix:${sock}`);
    expect(await get(url, '/')).to.deep.equal({ status: 200, body: 'Hello, world!\n' });
    t.proc.kill('SIGTERM');
    expect((await t.exited).code).to.equal(0);
  });

  it('-C FILE: [app] values reach the app; command-line options override the file', async () => {
    const file = path.join(dir, 'app.cfg');
    writeFileSync(file, '[server]\nsocketHost = 127.0.0.1\nscriptName = /from-file\n\n[app]\ngreeting = Hello from the file\ndb.url = postgres://db/app\n');
    const t = tsgi([ECHO, '-C', file, '--socket-port', '0', '--script-name', '/mnt']);
    const url = await t.started;
    const res = await get(url, '/mnt/x?y=1');
    expect(res.status).to.equal(200);
    const environ = (JSON.parse(res.body) as { environ: Record<string, unknown> }).environ;
    expect(environ['tsgi.app_config']).to.deep.equal({ greeting: 'Hello from the file', 'db.url': 'postgres://db/app' });
    expect([environ.SCRIPT_NAME, environ.PATH_INFO, environ.QUERY_STRING]).to.deep.equal(['/mnt', '/x', 'y=1']);
  });
});

describe('cli: signal handling (gateway/signals.ts)', () => {
  // process.emit runs the listeners without a real signal, so the mocha process is never at risk.
  function harness(handlers: Parameters<typeof installSignalHandlers>[0]): { exits: number[]; said: string[]; uninstall: () => void } {
    const exits: number[] = [];
    const said: string[] = [];
    const uninstall = installSignalHandlers(handlers, { say: (l) => said.push(l), exit: (c) => void exits.push(c) });
    return { exits, said, uninstall };
  }
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  beforeEach(function () {
    // Emitting a signal runs every listener of this process: only do it when nothing else listens.
    if (process.listenerCount('SIGTERM') > 0 || process.listenerCount('SIGHUP') > 0) this.skip();
  });

  it('SIGTERM stops gracefully and exits 0 once the stop is done; a second signal exits 1 at once', async () => {
    let finish!: () => void;
    const h = harness({ stop: () => new Promise<void>((resolve) => (finish = resolve)) });
    try {
      process.emit('SIGTERM');
      await tick();
      expect(h.exits).to.deep.equal([]); // still draining
      expect(h.said[0]).to.match(/^SIGTERM: stopping/);
      finish();
      await tick();
      expect(h.exits).to.deep.equal([0]);
      process.emit('SIGTERM');
      expect(h.exits).to.deep.equal([0, 1]);
    } finally {
      h.uninstall();
    }
  });

  it('a failed stop exits 1', async () => {
    const h = harness({ stop: () => Promise.reject(new Error('boom')) });
    try {
      process.emit('SIGTERM');
      await tick();
      expect(h.exits).to.deep.equal([1]);
      expect(h.said.join('\n')).to.include('error while stopping: boom');
    } finally {
      h.uninstall();
    }
  });

  it('SIGHUP without a reload handler is logged and ignored (never ends the server); with one it reloads', async () => {
    const before = process.listenerCount('SIGHUP');
    const a = harness({ stop: async () => {} });
    try {
      expect(process.listenerCount('SIGHUP')).to.equal(before + 1);
      process.emit('SIGHUP');
      await tick();
      expect(a.exits).to.deep.equal([]);
      expect(a.said.join('\n')).to.include('cannot reload');
    } finally {
      a.uninstall();
    }
    expect(process.listenerCount('SIGHUP')).to.equal(before);
    let reloads = 0;
    const b = harness({ stop: async () => {}, reload: async () => void reloads++ });
    try {
      expect(process.listenerCount('SIGHUP')).to.equal(before + 1);
      process.emit('SIGHUP');
      await tick();
      expect(reloads).to.equal(1);
      expect(b.exits).to.deep.equal([]);
    } finally {
      b.uninstall();
    }
    expect(process.listenerCount('SIGHUP')).to.equal(before);
  });
});
