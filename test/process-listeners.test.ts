/**
 * Several listeners (`[server]` + `[server:NAME]`) under processPool and forking, through the real `tsgi`
 * command: public HTTP on a TCP port, an admin listener on a unix socket with its own mount and status
 * page, and SCGI on a second TCP port (another front). Each answers with its own listener variables from
 * worker processes; a killed pool worker's replacement accepts on every socket; SIGTERM lets requests in
 * flight on two listeners finish and closes every socket. And through serve(): a listener that cannot bind
 * closes the ones already bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { loadConfig } from '../gateway/config/load.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { serve, type Running } from '../gateway/serve.js';
import { FIXTURE_APP } from './fixtures/pool/client.js';
import { alive, waitFor } from './fixtures/process/harness.js';
import { accepts, getJson, sendRequest } from './support/http-client.js';
import { nginxVars, scgiRequest } from './support/scgi-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/gateway/cli.js');
/** The pool fixture app under lint(): `/echo` returns the environ, `/gate?file=F` answers once F exists. */
const APP = `${FIXTURE_APP}:default`;

type Json = Record<string, unknown>;



const portOf = (url: string): number => Number(/:(\d+)$/.exec(url)![1]);

/** The status page's numbers, as the admin listener (or metricsListen) shows them. */
interface Snapshot {
  server: { pids: number[]; mode: string };
  requests: { total: number; inFlight: number };
  workers: { list: { id: string; state: string }[] };
}

/** The tsgi command serving the pool fixture with a three-listener config. */
class Cli {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'tsgi-process-listeners-'));
  readonly sock = path.join(this.dir, 'admin.sock');
  /** metricsListen: served by the supervisor itself, so it answers while the workers drain. */
  readonly metricsSock = path.join(this.dir, 'metrics.sock');
  stderr = '';
  port = 0;
  scgiPort = 0;
  private proc!: ChildProcess;
  exited!: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** Start with `mode` (`processPool = 2`, `forking = on`) and wait for the start line. */
  async start(mode: string): Promise<string> {
    const cfg = path.join(this.dir, 'server.cfg');
    writeFileSync(
      cfg,
      [
        '[server]',
        'socketPort = 0',
        mode,
        'gracefulTimeout = 10',
        `metricsListen = unix:${this.metricsSock}`,
        '',
        '[server:admin]',
        `socketFile = ${this.sock}`,
        'scriptName = /admin',
        'statusPath = /admin/status',
        // REMOTE_ADDR is empty on a unix socket: the file's permissions decide who connects.
        'statusAllow = *',
        '',
        '[server:scgi]',
        'protocol = scgi',
        'socketPort = 0',
        '',
      ].join('\n'),
    );
    const proc = spawn(process.execPath, [CLI, APP, '-C', cfg], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    let done = false;
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => (done = true));
    await waitFor('the start line', () => done || /^tsgi: serving .*$/m.test(this.stderr), 30_000);
    const line = /^tsgi: serving .*$/m.exec(this.stderr)?.[0];
    if (line === undefined) throw new Error(`tsgi exited before serving; stderr:\n${this.stderr}`);
    return line;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }

  /** The admin listener's status page (the whole pool's numbers), or with `via = 'metricsListen'` the supervisor's. */
  async status(via: 'admin' | 'metricsListen' = 'admin'): Promise<Snapshot> {
    const res = via === 'admin' ? await getJson({ socketPath: this.sock }, '/admin/status?json') : await getJson({ socketPath: this.metricsSock }, '/?json');
    expect(res.status).to.equal(200);
    return res.body as unknown as Snapshot;
  }

  /** GET /echo on each listener: the environ each one's request was served with. */
  async echoAll(): Promise<{ pub: Record<string, unknown>; admin: Record<string, unknown>; scgi: Record<string, unknown> }> {
    const pub = await getJson({ port: this.port }, '/echo?via=public');
    const admin = await getJson({ socketPath: this.sock }, '/admin/echo?via=admin');
    const scgi = await scgiRequest(this.scgiPort, { vars: nginxVars('GET', '/echo?via=scgi', { SERVER_PORT: '8443', SERVER_NAME: 'example.org' }) });
    expect([pub.status, admin.status, scgi.status]).to.deep.equal([200, 200, 200]);
    const environ = (body: Json): Record<string, unknown> => body.environ as Record<string, unknown>;
    return { pub: environ(pub.body), admin: environ(admin.body), scgi: environ(JSON.parse(scgi.body.toString()) as Json) };
  }

  /** Stop if still running (SIGTERM, SIGKILL after 10 s), then remove the temp dir. */
  async close(): Promise<void> {
    if (this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Poll the status page (bounded) until `check` holds; returns the last snapshot. */
async function statusUntil(cli: Cli, what: string, check: (s: Snapshot) => boolean, via: 'admin' | 'metricsListen' = 'admin'): Promise<Snapshot> {
  let last: Snapshot | undefined;
  for (let i = 0; i < 400; i++) {
    last = await cli.status(via);
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(last)}`);
}

/** The start line names the mode and lists the three listeners; the ports it names go to `cli`. */
function readStartLine(cli: Cli, line: string, mode: string): void {
  const m = new RegExp(`^tsgi: serving \\S+ on (http://127\\.0\\.0\\.1:\\d+) \\(${mode}, pid (\\d+)\\); also on \\[server:admin\\] unix:(\\S+), \\[server:scgi\\] (scgi://127\\.0\\.0\\.1:\\d+)$`).exec(line);
  expect(m, line).to.not.equal(null);
  expect(Number(m![2])).to.equal(cli.pid);
  expect(m![3]).to.equal(cli.sock);
  cli.port = portOf(m![1]);
  cli.scgiPort = portOf(m![4]);
  expect(cli.scgiPort).to.not.equal(cli.port);
}

/** Each listener answers with its own variables, from a worker process (not the supervisor). */
async function expectListenerEnvirons(cli: Cli): Promise<void> {
  const { pub, admin, scgi } = await cli.echoAll();
  expect(pub).to.include({ SERVER_PORT: String(cli.port), SCRIPT_NAME: '', PATH_INFO: '/echo', QUERY_STRING: 'via=public', 'tsgi.multiprocess': true });
  expect(admin).to.include({ SCRIPT_NAME: '/admin', PATH_INFO: '/echo', QUERY_STRING: 'via=admin', 'tsgi.multiprocess': true });
  expect(admin.SERVER_PORT).to.not.equal(String(cli.port));
  expect(scgi).to.include({ SERVER_PORT: '8443', SERVER_NAME: 'example.org', PATH_INFO: '/echo', QUERY_STRING: 'via=scgi', 'tsgi.multiprocess': true });
  // Outside the admin mount: 404 from the gateway, the app is not reached.
  expect((await sendRequest({ socketPath: cli.sock }, { method: 'GET', path: '/echo' })).status).to.equal(404);
}

/** `ok STATUS` when a response came, `error` when the connection was refused, reset or closed unanswered. */
function outcome(p: Promise<{ status: number }>): Promise<string> {
  return p.then(
    (r) => `ok ${r.status}`,
    () => 'error',
  );
}

/**
 * SIGTERM while a request is held open on the public listener and another on the admin listener: once
 * every worker is draining, no listener takes a new request (the primary / parent still holds the sockets,
 * but no worker accepts: the connections are reset when the sockets close); the held requests complete once
 * released; the command exits 0 and every socket is closed (the unix socket file is gone).
 */
async function expectDrainOfEveryListener(cli: Cli): Promise<void> {
  const gate = path.join(cli.dir, 'release');
  const held = [
    sendRequest({ port: cli.port }, { method: 'GET', path: `/gate?file=${encodeURIComponent(gate)}` }),
    sendRequest({ socketPath: cli.sock }, { method: 'GET', path: `/admin/gate?file=${encodeURIComponent(gate)}` }),
  ];
  // Both are in the app (the pool's in-flight count), so SIGTERM finds them running.
  await statusUntil(cli, 'two requests in flight', (s) => s.requests.inFlight >= 2);
  cli.signal('SIGTERM');
  // metricsListen (the supervisor's own) answers while the workers drain. A worker shown `stopping` answered
  // after it was told to drain; asked twice, so the second answer was requested after the drain was sent.
  const allStopping = (s: Snapshot): boolean => s.workers.list.length > 0 && s.workers.list.every((w) => w.state === 'stopping');
  for (let i = 0; i < 2; i++) await statusUntil(cli, 'every worker to be stopping', allStopping, 'metricsListen');
  const late = [
    outcome(sendRequest({ port: cli.port }, { method: 'GET', path: '/echo' }, 20_000)),
    outcome(sendRequest({ socketPath: cli.sock }, { method: 'GET', path: '/admin/echo' }, 20_000)),
    outcome(scgiRequest(cli.scgiPort, { vars: nginxVars('GET', '/echo'), timeoutMs: 20_000 })),
  ];
  writeFileSync(gate, '');
  const done = await Promise.all(held);
  expect(done.map((r) => r.status)).to.deep.equal([200, 200]);
  expect(await Promise.all(late)).to.deep.equal(['error', 'error', 'error'], 'no listener took a request after the drain began');
  expect(await cli.exited).to.deep.equal({ code: 0, signal: null });
  expect(await accepts({ port: cli.port })).to.equal(false);
  expect(await accepts({ port: cli.scgiPort })).to.equal(false);
  expect(existsSync(cli.sock)).to.equal(false, 'the unix socket file is removed');
}

describe('several listeners under processPool = 2 (tsgi command)', function () {
  this.timeout(60_000);
  let cli: Cli;
  before(async () => {
    cli = new Cli();
    readStartLine(cli, await cli.start('processPool = 2'), 'processPool');
  });
  after(() => cli?.close());

  it('every listener answers from the worker processes with its own SERVER_PORT / SCRIPT_NAME, and the admin status page counts them all', async () => {
    const before = await cli.status();
    expect(before.server.mode).to.equal('processPool');
    expect(before.server.pids).to.have.length(2);
    expect(before.server.pids).to.not.include(cli.pid);
    await expectListenerEnvirons(cli);
    // The three app requests above (and the 404 outside the mount, which never reaches the app).
    const after = await statusUntil(cli, 'the three requests to be counted', (s) => s.requests.total >= before.requests.total + 3);
    expect(after.requests.total).to.equal(before.requests.total + 3);
    // statusPath belongs to the admin listener: on the public one the path is the app's (fixture: 404 JSON).
    const onPublic = await getJson({ port: cli.port }, '/admin/status?json');
    expect(onPublic.status).to.equal(404);
    expect(onPublic.body.error).to.equal('no such path');
  });

  it('workers killed with SIGKILL are replaced, and the replacements accept on every listener', async () => {
    const first = (await cli.status()).server.pids;
    // Kill both original workers, one after the other: afterwards only replacements serve.
    for (const victim of first) {
      process.kill(victim, 'SIGKILL');
      await waitFor(`worker ${victim} to die`, () => !alive(victim));
      // Replaced = a new worker is listed and done booting (a booting worker is listed as `starting`).
      const replaced = (s: Snapshot): boolean => s.server.pids.length === 2 && !s.server.pids.includes(victim) && s.workers.list.every((w) => w.state !== 'starting');
      await statusUntil(cli, `worker ${victim} to be replaced`, replaced);
      expect(cli.stderr).to.match(new RegExp(`worker ${victim} exited \\(SIGKILL\\); starting a replacement`));
    }
    const now = (await cli.status()).server.pids;
    expect(now.filter((p) => first.includes(p))).to.deep.equal([]);
    // Several rounds: whichever replacement the kernel hands each connection to, every listener answers.
    for (let i = 0; i < 3; i++) await expectListenerEnvirons(cli);
  });

  it('SIGTERM drains the requests in flight on two listeners, exits 0 and closes every socket', async () => {
    await expectDrainOfEveryListener(cli);
  });
});

describe('several listeners under forking = 1 (tsgi command)', function () {
  this.timeout(60_000);
  let cli: Cli;
  before(async () => {
    cli = new Cli();
    readStartLine(cli, await cli.start('forking = on'), 'forking');
  });
  after(() => cli?.close());

  it('each connection is served by a child with the front and variables of the listener it came in on', async () => {
    expect((await cli.status()).server.mode).to.equal('forking');
    await expectListenerEnvirons(cli);
    // A second round: fresh children, the same per-listener answers.
    await expectListenerEnvirons(cli);
  });

  it('SIGTERM drains the requests in flight on two listeners, exits 0 and closes every socket', async () => {
    await expectDrainOfEveryListener(cli);
  });
});

describe('several listeners under processPool / forking through serve()', function () {
  this.timeout(60_000);
  let dir: string;
  let running: Running | undefined;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-process-listeners-serve-'));
  });
  afterEach(async () => {
    await running?.close(1000);
    running = undefined;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const mode of ['processPool = 1', 'forking = on']) {
    it(`${mode}: Running.listeners lists every listener with its url`, async () => {
      const sock = path.join(dir, 'list.sock');
      const file = path.join(dir, 'list.cfg');
      writeFileSync(file, `[server]\nsocketPort = 0\n${mode}\n\n[server:admin]\nsocketFile = ${sock}\n`);
      running = await serve({ config: loadConfig(file), app: APP, log: new ErrorLog(new MemoryLog()) });
      expect(running.listeners.map((l) => l.section)).to.deep.equal(['[server]', '[server:admin]']);
      expect(running.listeners[0].url).to.equal(running.url).and.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(running.listeners[1].url).to.equal(`unix:${sock}`);
      await running.close(1000);
      running = undefined;
      expect(existsSync(sock)).to.equal(false);
    });
  }
});
