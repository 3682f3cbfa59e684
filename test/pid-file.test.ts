/**
 * The pidFile option: written before the server listens and removed when it exits; a file naming a live
 * process stops the start with TSGI_ERR_CONFIG naming the file, the option and the fix; a stale file (a
 * dead pid, or no pid at all) is replaced. Through claimPidFile and through the real CLI.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { isTsgiError } from '../app-api/errors.js';
import { claimPidFile } from '../gateway/lifecycle/pid-file.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/gateway/cli.js');
const HELLO = path.join(ROOT, 'dist/examples/hello/app.js');

/** A pid that no process has now: a child that already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  expect(r.pid).to.be.a('number');
  return r.pid!;
}

/** Start the CLI; resolves with the child and its stderr once it says it serves (bounded: 60 s) or exits. */
function startCli(args: string[]): Promise<{ child: ChildProcess; stderr: () => string; code?: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, HELLO, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no start line within 60 s: ${err}`));
    }, 60_000);
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      err += s;
      if (/tsgi: serving/.test(err)) {
        clearTimeout(timer);
        resolve({ child, stderr: () => err });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ child, stderr: () => err, code });
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('pidFile', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-pidfile-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a file that names a live process, naming the file, the pid, the option and the fix; the file is left alone', () => {
    const file = path.join(dir, 'app.pid');
    writeFileSync(file, `${process.ppid}\n`);
    expect(() => claimPidFile(file, { kind: 'file', file: path.join(dir, 'server.cfg'), line: 3 }))
      .to.throw()
      .that.satisfies((e: unknown) => isTsgiError(e, 'TSGI_ERR_CONFIG'))
      .and.has.property('message')
      .that.matches(new RegExp(`server\\.cfg line 3: pidFile ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds pid ${process.ppid}, which is running .*stop that server first \\(kill ${process.ppid}\\), or give this one another pidFile / --pid-file`));
    expect(readFileSync(file, 'utf8')).to.equal(`${process.ppid}\n`);
  });

  it('replaces a stale file (a dead pid, or text that is no pid) and removes it on release', () => {
    for (const stale of [`${deadPid()}\n`, 'not a pid\n']) {
      const file = path.join(dir, 'app.pid');
      writeFileSync(file, stale);
      const claim = claimPidFile(file);
      expect(claim.found).to.equal('stale');
      expect(readFileSync(file, 'utf8')).to.equal(`${process.pid}\n`);
      claim.release();
      expect(existsSync(file)).to.equal(false);
    }
  });

  it('release leaves a file another process has taken over', () => {
    const file = path.join(dir, 'app.pid');
    const claim = claimPidFile(file);
    expect(claim.found).to.equal('new');
    writeFileSync(file, `${process.ppid}\n`);
    claim.release();
    expect(readFileSync(file, 'utf8')).to.equal(`${process.ppid}\n`);
  });

  it('the CLI: written at start, a second server on the same file exits 2 with one line before listening, removed at exit', async () => {
    const file = path.join(dir, 'app.pid');
    const cfg = path.join(dir, 'server.cfg');
    writeFileSync(cfg, `[server]\nsocketPort = 0\npidFile = ${file}\n`);
    const first = await startCli(['-C', cfg]);
    try {
      expect(first.code, first.stderr()).to.equal(undefined);
      expect(readFileSync(file, 'utf8')).to.equal(`${first.child.pid}\n`);
      const second = await startCli(['--pid-file', file, '--socket-port', '0']);
      expect(second.code, second.stderr()).to.equal(2);
      expect(second.stderr()).to.match(new RegExp(`^tsgi: TSGI_ERR_CONFIG: command line --pid-file: pidFile \\S+app\\.pid holds pid ${first.child.pid}, which is running`));
      expect(second.stderr()).to.not.match(/serving/);
      expect(readFileSync(file, 'utf8')).to.equal(`${first.child.pid}\n`);
    } finally {
      first.child.kill('SIGTERM');
      await exited(first.child);
    }
    expect(existsSync(file), 'removed at exit').to.equal(false);
  });

  it('the CLI replaces a stale file and says so in the log', async () => {
    const file = path.join(dir, 'app.pid');
    writeFileSync(file, `${deadPid()}\n`);
    const s = await startCli(['--pid-file', file, '--socket-port', '0']);
    try {
      expect(s.code, s.stderr()).to.equal(undefined);
      expect(s.stderr()).to.match(/\[warn\] \[tsgi\] pidFile \S+app\.pid named a process that is gone; replaced it/);
      expect(readFileSync(file, 'utf8')).to.equal(`${s.child.pid}\n`);
    } finally {
      s.child.kill('SIGTERM');
      await exited(s.child);
    }
    expect(existsSync(file)).to.equal(false);
  });
});
