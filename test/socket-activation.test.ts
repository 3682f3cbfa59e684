/**
 * systemd socket activation, for real: `systemd-socket-activate` (from systemd) binds the sockets and execs
 * `tsgi` with LISTEN_FDS / LISTEN_PID / LISTEN_FDNAMES, as a `.socket` unit does. tsgi serves on the
 * sockets it was given (single and processPool), matches `[server:NAME]` sections to FileDescriptorName=s,
 * and refuses a config with more listeners than sockets, naming the fix. Plus the pure matching rules and
 * `--bind fd://N`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseArgs } from '../gateway/config/argv.js';
import { loadConfig } from '../gateway/config/load.js';
import { listenersOf } from '../gateway/config/resolve.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { applySocketActivation, listenFds } from '../gateway/socket-activation.js';
import { freePort } from './integration/harness/ports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/gateway/cli.js');
const ECHO = path.join(ROOT, 'dist/examples/echo-environ/app.js');
const ACTIVATE = spawnSync('sh', ['-c', 'command -v systemd-socket-activate'], { encoding: 'utf8' }).stdout.trim();

function getJson(port: number, urlPath = '/x'): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
        try {
          resolve((JSON.parse(body) as { environ: Record<string, unknown> }).environ);
        } catch (err) {
          reject(err);
        }
      });
    }).on('error', reject);
  });
}

describe('socket activation: matching sockets to listeners', () => {
  const log = (): ErrorLog => new ErrorLog(new MemoryLog());
  const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-sa-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = (text: string) => {
    const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.cfg`);
    writeFileSync(file, text);
    return loadConfig(file);
  };

  it('reads LISTEN_FDS only when LISTEN_PID is this process', () => {
    expect(listenFds({ LISTEN_FDS: '2', LISTEN_PID: '42', LISTEN_FDNAMES: 'a:b' }, 42)).to.deep.equal([{ fd: 3, name: 'a' }, { fd: 4, name: 'b' }]);
    expect(listenFds({ LISTEN_FDS: '2', LISTEN_PID: '41' }, 42)).to.deep.equal([]);
    expect(listenFds({}, 42)).to.deep.equal([]);
  });

  it('[server] takes the socket named server, [server:NAME] the one named NAME, whatever the order', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_FDS: '2', LISTEN_PID: '7', LISTEN_FDNAMES: 'admin:server' };
    const c = applySocketActivation(cfg('[server]\nsocketPort = 8080\n[server:admin]\nsocketPort = 8081\n'), log(), env, 7);
    expect(listenersOf(c).map((l) => [l.name, l.server.socketFd])).to.deep.equal([['server', 4], ['admin', 3]]);
    expect(env.LISTEN_FDS, 'the variables are removed once read').to.equal(undefined);
  });

  it('unnamed sockets go to the listeners in order; too few sockets is a config error naming the fix', () => {
    const c = applySocketActivation(cfg('[server]\nsocketPort = 8080\n'), log(), { LISTEN_FDS: '1', LISTEN_PID: '7' }, 7);
    expect(c.server.socketFd).to.equal(3);
    expect(() => applySocketActivation(cfg('[server]\nsocketPort = 8080\n[server:b]\nsocketPort = 8081\n'), log(), { LISTEN_FDS: '1', LISTEN_PID: '7' }, 7)).to.throw(/TSGI_ERR_CONFIG|ListenStream=.*\[server:b\]|none is left for \[server:b\]/);
  });

  it('--bind fd://N sets socketFd; socketFd with socketPort is a conflict', () => {
    const args = parseArgs(['app.js', '--bind', 'fd://5']);
    if (args.kind !== 'run') throw new Error('expected run');
    expect(loadConfig(undefined, { settings: args.settings }).server.socketFd).to.equal(5);
    expect(() => cfg('[server]\nsocketFd = 3\nsocketPort = 8080\n')).to.throw(/socketFd.*socketPort|socketPort.*socketFd/);
  });
});

describe('socket activation through systemd-socket-activate', function () {
  this.timeout(60_000);
  const procs: ChildProcess[] = [];
  before(function () {
    if (ACTIVATE === '') {
      if (process.env.CI === 'true') throw new Error('systemd-socket-activate is missing (Debian package systemd)');
      console.log('    (skipped: systemd-socket-activate is not installed; apt-get install systemd)');
      this.skip();
    }
  });
  afterEach(() => {
    for (const p of procs.splice(0)) p.kill('SIGKILL');
  });

  function activate(ports: { port: number; name: string }[], args: string[]): { proc: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
    const listen = ports.flatMap((p) => ['-l', `127.0.0.1:${p.port}`, `--fdname=${p.name}`]);
    const proc = spawn(ACTIVATE, [...listen, process.execPath, CLI, ECHO, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    procs.push(proc);
    let stderr = '';
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    return { proc, stderr: () => stderr, exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))) };
  }

  async function untilServing(port: number, stderr: () => string, urlPath = '/x'): Promise<Record<string, unknown>> {
    // systemd-socket-activate binds at once: a request waits in the backlog until tsgi accepts.
    for (let i = 0; i < 5; i++) {
      try {
        return await getJson(port, urlPath);
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    throw new Error(`no answer on ${port}; stderr: ${stderr()}`);
  }

  for (const mode of [[], ['--process-pool', '2']]) {
    it(`serves on the passed socket (${mode.length === 0 ? 'single' : 'processPool = 2'}); the start line says fd://3`, async () => {
      const port = await freePort();
      const t = activate([{ port, name: 'server' }], mode);
      const env = await untilServing(port, t.stderr);
      expect(env.SERVER_PORT).to.equal(String(port));
      // Workers may answer before the primary prints its start line.
      for (let i = 0; i < 40 && !/serving \S+ on fd:\/\/3 /.test(t.stderr()); i++) await new Promise((r) => setTimeout(r, 250));
      expect(t.stderr()).to.match(/serving \S+ on fd:\/\/3 /);
      t.proc.kill('SIGTERM');
      expect(await t.exited).to.equal(0);
    });
  }

  it('two sockets to [server] and [server:admin] by FileDescriptorName, in either order', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-sa-'));
    const cfgFile = path.join(dir, 'two.cfg');
    writeFileSync(cfgFile, '[server]\nsocketPort = 1\n[server:admin]\nsocketPort = 2\nscriptName = /admin\n');
    const t = activate([{ port: a, name: 'admin' }, { port: b, name: 'server' }], ['-C', cfgFile]);
    const onAdmin = await untilServing(a, t.stderr, '/admin/x');
    expect(onAdmin.SCRIPT_NAME, 'port a is the admin socket').to.equal('/admin');
    const onMain = await untilServing(b, t.stderr);
    expect(onMain.SCRIPT_NAME).to.equal('');
    t.proc.kill('SIGTERM');
    expect(await t.exited).to.equal(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('more listeners than sockets: exit 2 with a line naming the missing section and the fix', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-sa-'));
    const cfgFile = path.join(dir, 'three.cfg');
    writeFileSync(cfgFile, '[server]\nsocketPort = 1\n[server:admin]\nsocketPort = 2\n');
    const port = await freePort();
    const t = activate([{ port, name: 'server' }], ['-C', cfgFile]);
    // systemd-socket-activate starts the command on the first connection, as a .socket unit does.
    // (it may not listen yet: poke until it has started the command)
    const pokes: net.Socket[] = [];
    for (let i = 0; i < 40 && !/Execing/.test(t.stderr()); i++) {
      pokes.push(net.connect(port, '127.0.0.1').on('error', () => {}));
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await t.exited).to.equal(2);
    for (const p of pokes) p.destroy();
    expect(t.stderr()).to.match(/TSGI_ERR_CONFIG: socket activation: .*\[server:admin\].*ListenStream=/);
    rmSync(dir, { recursive: true, force: true });
  });
});
