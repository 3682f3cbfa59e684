/**
 * Several listeners from one config, served for real: `[server]` on a TCP port, `[server:admin]` on a unix
 * socket with its own mount, `[server:scgi]` speaking SCGI. The same app (one module instance, one pool)
 * answers on each with the listener's own variables; the status page on one listener counts the traffic of
 * all; close() and SIGTERM stop every listener; a listener that cannot bind closes the ones already open.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { loadConfig } from '../gateway/config/load.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { serve, type Running } from '../gateway/serve.js';
import { FIXTURE_APP } from './fixtures/pool/client.js';
import { accepts, getJson, sendRequest } from './support/http-client.js';
import { nginxVars, scgiRequest } from './support/scgi-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/gateway/cli.js');
/** The pool fixture app under lint() (its default export): `/` says which module instance and thread answered, `/echo` returns the environ. */
const APP = `${FIXTURE_APP}:default`;

type Json = Record<string, unknown>;


function environOf(body: Json): Record<string, string> {
  return body.environ as Record<string, string>;
}


const portOf = (url: string): number => Number(new URL(url).port);
const scgiPortOf = (url: string): number => Number(/:(\d+)$/.exec(url)![1]);

describe('several listeners: [server] + [server:NAME] through serve()', function () {
  this.timeout(60_000);
  let dir: string;
  let running: Running | undefined;
  let n = 0;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-listeners-serve-'));
  });
  afterEach(async () => {
    await running?.close(1000);
    running = undefined;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function start(ini: string): Promise<Running> {
    const file = path.join(dir, `s${++n}.cfg`);
    writeFileSync(file, ini);
    running = await serve({ config: loadConfig(file), app: APP, log: new ErrorLog(new MemoryLog()) });
    return running;
  }

  it('single mode: the same app answers on TCP, a unix socket with its own mount, and SCGI, each with its listener variables; close() stops all three', async () => {
    const sock = path.join(dir, 'admin.sock');
    const r = await start(
      ['[server]', 'socketPort = 0', '', '[server:admin]', `socketFile = ${sock}`, 'scriptName = /admin', '', '[server:scgi]', 'protocol = scgi', 'socketPort = 0', ''].join('\n'),
    );
    expect(r.mode).to.equal('single');
    expect(r.listeners.map((l) => l.section)).to.deep.equal(['[server]', '[server:admin]', '[server:scgi]']);
    const [pub, admin, scgi] = r.listeners.map((l) => l.url);
    expect(pub).to.equal(r.url).and.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(admin).to.equal(`unix:${sock}`);
    expect(scgi).to.match(/^scgi:\/\/127\.0\.0\.1:\d+$/);
    const port = portOf(pub);
    expect(scgiPortOf(scgi)).to.not.equal(port);

    // Public TCP listener: SERVER_PORT is its port, mounted at the root.
    const a = await getJson({ port }, '/echo?x=1');
    expect(a.status).to.equal(200);
    expect(environOf(a.body)).to.include({ SERVER_PORT: String(port), SCRIPT_NAME: '', PATH_INFO: '/echo', QUERY_STRING: 'x=1', REMOTE_ADDR: '127.0.0.1' });

    // Admin on the unix socket: its own mount; outside it, 404 without reaching the app.
    const b = await getJson({ socketPath: sock }, '/admin/echo');
    expect(b.status).to.equal(200);
    expect(environOf(b.body)).to.include({ SCRIPT_NAME: '/admin', PATH_INFO: '/echo' });
    expect(environOf(b.body).SERVER_PORT).to.not.equal(String(port));
    expect((await sendRequest({ socketPath: sock }, { method: 'GET', path: '/echo' })).status).to.equal(404);

    // SCGI: the web server's variables, the same app.
    const c = await scgiRequest(scgiPortOf(scgi), { vars: nginxVars('GET', '/echo', { SERVER_PORT: '8443', SERVER_NAME: 'example.org' }) });
    expect(c.status).to.equal(200);
    expect(environOf(JSON.parse(c.body.toString()) as Json)).to.include({ SERVER_PORT: '8443', SERVER_NAME: 'example.org', PATH_INFO: '/echo' });

    // One module instance answers everywhere.
    const ids = new Set([
      (await getJson({ port }, '/')).body.loadId,
      (await getJson({ socketPath: sock }, '/admin/')).body.loadId,
      (JSON.parse((await scgiRequest(scgiPortOf(scgi), { vars: nginxVars('GET', '/') })).body.toString()) as Json).loadId,
    ]);
    expect(ids.size).to.equal(1);
    expect([...ids][0]).to.be.a('string');

    await r.close(1000);
    running = undefined;
    expect(await accepts({ port })).to.equal(false);
    expect(await accepts({ port: scgiPortOf(scgi) })).to.equal(false);
    expect(await accepts({ path: sock })).to.equal(false);
  });

  it('threadPool = 1: one pool thread serves both listeners, and the admin status page counts the public traffic', async () => {
    const sock = path.join(dir, 'status.sock');
    const r = await start(
      ['[server]', 'socketPort = 0', 'threadPool = 1', '', '[server:admin]', `socketFile = ${sock}`, 'statusPath = /server-status', 'statusAllow = *', ''].join('\n'),
    );
    expect(r.mode).to.equal('threadPool');
    const port = portOf(r.url);
    const pub1 = await getJson({ port }, '/');
    const pub2 = await getJson({ port }, '/');
    const adm = await getJson({ socketPath: sock }, '/');
    expect([pub1.status, pub2.status, adm.status]).to.deep.equal([200, 200, 200]);
    expect(pub1.body.multithread).to.equal(true);
    expect(new Set([pub1.body.threadId, pub2.body.threadId, adm.body.threadId]).size).to.equal(1);
    expect(new Set([pub1.body.loadId, adm.body.loadId]).size).to.equal(1);

    // The page counts all three app requests, whichever listener they came in on (bounded poll: the count
    // is taken when the pool reports the response done, which may trail the client's last byte).
    let snap: Json = {};
    for (let i = 0; i < 200; i++) {
      snap = (await getJson({ socketPath: sock }, '/server-status?json')).body;
      if ((snap.requests as { total: number }).total >= 3) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    expect((snap.server as { mode: string }).mode).to.equal('pool');
    expect((snap.requests as { total: number }).total).to.equal(3);

    // statusPath belongs to the admin listener: on the public one the path is the app's (fixture: 404 JSON).
    const onPublic = await getJson({ port }, '/server-status?json');
    expect(onPublic.status).to.equal(404);
    expect(onPublic.body.error).to.equal('no such path');
  });

  it('threading = 1 serves two TCP listeners, each request with the SERVER_PORT of its listener', async () => {
    const r = await start(['[server]', 'socketPort = 0', 'threading = on', '', '[server:second]', 'socketPort = 0', ''].join('\n'));
    expect(r.mode).to.equal('threading');
    const [p1, p2] = r.listeners.map((l) => portOf(l.url));
    expect(p1).to.not.equal(p2);
    const a = await getJson({ port: p1 }, '/echo');
    const b = await getJson({ port: p2 }, '/echo');
    expect([a.status, b.status]).to.deep.equal([200, 200]);
    expect(environOf(a.body).SERVER_PORT).to.equal(String(p1));
    expect(environOf(b.body).SERVER_PORT).to.equal(String(p2));
  });

  // Single mode opens its fronts itself; processPool and forking bind every socket in the supervisor first.
  for (const mode of ['', 'processPool = 1', 'forking = on']) {
    it(`${mode || 'single mode'}: a listener that cannot bind fails the start with EADDRINUSE and closes the listeners already open`, async () => {
      const busy = net.createServer();
      await new Promise<void>((res) => busy.listen(0, '127.0.0.1', res));
      const busyPort = (busy.address() as net.AddressInfo).port;
      const first = path.join(dir, 'first.sock');
      try {
        const file = path.join(dir, 'busy.cfg');
        writeFileSync(file, `[server]\nsocketFile = ${first}\n${mode}\n\n[server:b]\nsocketPort = ${busyPort}\n`);
        let error: unknown;
        try {
          running = await serve({ config: loadConfig(file), app: APP, log: new ErrorLog(new MemoryLog()) });
        } catch (err) {
          error = err;
        }
        expect((error as NodeJS.ErrnoException | undefined)?.code).to.equal('EADDRINUSE');
        expect(await accepts({ path: first })).to.equal(false);
      } finally {
        await new Promise((res) => busy.close(res));
      }
    });
  }

});

describe('several listeners: the tsgi command', function () {
  this.timeout(60_000);
  let dir: string;
  let child: ChildProcess | undefined;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-listeners-cli-'));
  });
  afterEach(() => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints every listener on the start line, serves on each, and SIGTERM stops them all with exit 0', async () => {
    const sock = path.join(dir, 'admin.sock');
    const file = path.join(dir, 'cli.cfg');
    writeFileSync(file, `[server]\nsocketPort = 0\n\n[server:admin]\nsocketFile = ${sock}\nscriptName = /admin\n`);
    const proc = spawn(process.execPath, [CLI, APP, '-C', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start line within 20 s; stderr: ${stderr}`)), 20_000);
      proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        const m = /^tsgi: serving .*$/m.exec(stderr);
        if (m !== null) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`tsgi exited (${code}) before serving; stderr: ${stderr}`));
      });
    });
    const m = /^tsgi: serving \S+ on (http:\/\/127\.0\.0\.1:(\d+)) \(single, pid (\d+)\); also on \[server:admin\] unix:(\S+)$/.exec(line);
    expect(m, line).to.not.equal(null);
    expect(Number(m![3])).to.equal(proc.pid);
    expect(m![4]).to.equal(sock);
    const port = Number(m![2]);

    expect(environOf((await getJson({ port }, '/echo')).body).SERVER_PORT).to.equal(String(port));
    expect(environOf((await getJson({ socketPath: sock }, '/admin/echo')).body).SCRIPT_NAME).to.equal('/admin');

    proc.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(await accepts({ port })).to.equal(false);
    expect(existsSync(sock) && (await accepts({ path: sock }))).to.equal(false);
  });

  it('a process option in a listener section exits 2 with one line naming the file, line, option and fix', async () => {
    const file = path.join(dir, 'bad.cfg');
    writeFileSync(file, `[server]\nsocketPort = 0\n\n[server:admin]\nsocketFile = ${dir}/x.sock\nthreadPool = 4\n`);
    const proc = spawn(process.execPath, [CLI, APP, '-C', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
    expect(code).to.equal(2);
    expect(stderr).to.match(/^tsgi: TSGI_ERR_CONFIG: \S*bad\.cfg line 6: threadPool applies to the whole process, not to one listener: .*move it to \[server\]/);
    expect(stderr.trim().split('\n')).to.have.length(1);
  });
});
