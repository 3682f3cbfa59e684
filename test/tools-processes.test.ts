/**
 * The tools across processes, through the real CLI: processPool=2 writes one whole access-log line per
 * request from both workers (none lost, none interleaved) and reopens the file on SIGUSR1 after a
 * logrotate-style rename, and so does the error log (log.error_file and errorLog); file and redis sessions are shared by the workers of a pool and by two separate
 * servers; memory sessions under processPool get a startup warning.
 */
import { mkdtempSync, readFileSync, renameSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { sendRequest, type RawResponse } from './support/http-client.js';
import { startRedis, type TestRedis } from './support/redis.js';
import { COMBINED, setCookieId, startToolsCli, type ToolsServer } from './support/tools-cli.js';

const get = (port: number, p: string, id?: string): Promise<RawResponse> =>
  sendRequest({ port }, { method: 'GET', path: p, headers: id !== undefined ? [['Cookie', `session_id=${id}`]] : [] });
/** The entries of an error log: each starts with a `[ISO time] [level]` line; stack lines follow it. */
const entries = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split(/\n(?=\[\d{4}-)/).map((e) => e.trimEnd()).filter((e) => e !== '') : []);
/** One whole error entry of the fixture's /boom-pid: the gateway's line, the message naming pid and query, a stack. */
const ERROR_ENTRY = /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] \[error\] \[[^\]]+\] error in app for GET \/boom-pid\n(?:\S+: )?Error: boom in pid (\d+) for ((?:i|after)=\d+)(?:\n\s+at [^\n]+)+$/;
const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : []);
/** Wait until `file` has at least `n` lines (bounded: 2 s); the assertions that follow say what is wrong. */
async function linesReach(file: string, n: number): Promise<void> {
  for (let i = 0; i < 100 && lines(file).length < n; i++) await new Promise((r) => setTimeout(r, 20));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pidOfAnswer = (r: RawResponse): number => JSON.parse(r.body.toString()).pid as number;

/**
 * One round that reaches both workers of processPool=2 by construction: `holding` blocks the worker that
 * accepts it (a synchronous wait of HOLD_MS), and the `others` sent while it waits can only be accepted by
 * the other worker. Without the hold, every request of a round could land on one worker (the one awake in
 * accept takes all that are pending), and on a loaded CI machine that happened ten rounds running.
 * Resolves with the held answer first, then the others'.
 */
const HOLD_MS = 300;
async function roundOnBothWorkers(holding: () => Promise<RawResponse>, others: Array<() => Promise<RawResponse>>): Promise<RawResponse[]> {
  const held = holding();
  await sleep(60); // the held request reaches its worker and blocks it
  const rest = await Promise.all(others.map((send) => send()));
  return [await held, ...rest];
}

describe('tools across processes (CLI)', function () {
  this.timeout(90_000);
  let dir: string;
  let redis: TestRedis | undefined;
  const servers: ToolsServer[] = [];

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-tools-proc-'));
    redis = await startRedis(this);
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });
  after(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('processPool=2: 60 concurrent requests leave 60 whole combined lines; SIGUSR1 after a rename reopens the file in every worker, losing no line', async () => {
    const s = await startToolsCli(dir, 'pool-log', 'processPool = 2\n[global]\nlog.access_file = access.log\n');
    servers.push(s);
    const access = path.join(dir, 'access.log');
    const first = await Promise.all(Array.from({ length: 60 }, (_, i) => get(s.port, `/whoami?i=${i}`)));
    expect(first.every((r) => r.status === 200)).to.equal(true);
    const pids = new Set(first.map((r) => JSON.parse(r.body.toString()).pid as number));
    // A worker writes its line when the response is done, which can be just after the client read it.
    await linesReach(access, 60);
    const before = lines(access);
    expect(before).to.have.length(60);
    for (const l of before) expect(l).to.match(COMBINED);
    expect(new Set(before.map((l) => /i=(\d+)/.exec(l)![1])).size, 'each request once').to.equal(60);

    // Sent as soon as the workers answer, maybe before the primary has added its forwarding (it remembers
    // the signal: gateway/tools/apply.ts installLogReopen).
    renameSync(access, `${access}.1`);
    process.kill(s.daemon.child.pid!, 'SIGUSR1');
    // Every worker reopens: keep sending until both workers have written to the new file, in rounds that
    // reach both workers (roundOnBothWorkers; bounded: 50 rounds, 25 ms apart).
    let sent = 0;
    const seenNew = new Set<number>();
    const pidOf = new Map<number, number>();
    for (let round = 0; round < 50 && seenNew.size < 2; round++) {
      const at = sent;
      const answers = await roundOnBothWorkers(
        () => get(s.port, `/whoami?after=${at}&hold=${HOLD_MS}`),
        Array.from({ length: 10 }, (_, k) => () => get(s.port, `/whoami?after=${at + 1 + k}`)),
      );
      answers.forEach((r, k) => pidOf.set(at + k, pidOfAnswer(r)));
      sent += answers.length;
      for (const l of lines(access)) {
        const m = /after=(\d+)[ &]/.exec(l);
        if (m !== null) seenNew.add(pidOf.get(Number(m[1]))!);
      }
      // The primary forwards the signal: give the workers time to get it.
      if (seenNew.size < 2) await new Promise((r) => setTimeout(r, 25));
    }
    const answered = new Set([...pids, ...pidOf.values()]);
    expect(answered.size, 'both workers answered').to.equal(2);
    expect(seenNew.size, `both workers write to the new access.log (${sent} requests after the rename)\n${s.daemon.diagnostics()}`).to.equal(2);
    // The last round's lines may still be on their way (bounded wait), then none may be missing.
    for (let i = 0; i < 100 && lines(`${access}.1`).length - 60 + lines(access).length < sent; i++) await new Promise((r) => setTimeout(r, 20));
    const rotated = lines(`${access}.1`);
    const fresh = lines(access);
    expect(rotated.slice(0, 60)).to.deep.equal(before);
    expect(rotated.length - 60 + fresh.length, 'no line lost across the rename').to.equal(sent);
    for (const l of [...rotated, ...fresh]) expect(l).to.match(COMBINED);
  });

  // The error log is reopened the same way: `log.error_file` (the tool key) and `errorLog` (the [server]
  // option) are both LogFiles. One entry is a whole multi-line write: the message line and the stack.
  for (const [key, section, file] of [
    ['log.error_file', '[global]', 'tool-error.log'],
    ['errorLog', '[server]', 'server-error.log'],
  ] as const) {
    it(`processPool=2: ${key} keeps whole entries from both workers; SIGUSR1 after a rename reopens it in every worker, losing no entry`, async () => {
      const ini = section === '[server]' ? `processPool = 2\n${key} = ${file}\n` : `processPool = 2\n${section}\n${key} = ${file}\n`;
      const s = await startToolsCli(dir, `pool-${file}`, ini);
      servers.push(s);
      const log = path.join(dir, file);
      // Both workers must be in play, or the test would prove the reopen of one only.
      const pids = new Set<number>();
      for (let round = 0; round < 3 && pids.size < 2; round++) {
        const answers = await roundOnBothWorkers(() => get(s.port, `/whoami?hold=${HOLD_MS}`), Array.from({ length: 10 }, () => () => get(s.port, '/whoami')));
        for (const r of answers) pids.add(pidOfAnswer(r));
      }
      expect(pids.size, 'both workers answer').to.equal(2);
      const first = await Promise.all(Array.from({ length: 20 }, (_, i) => get(s.port, `/boom-pid?i=${i}`)));
      expect(first.every((r) => r.status === 500)).to.equal(true);
      const before = entries(log).filter((e) => e.includes('/boom-pid'));
      expect(before).to.have.length(20);
      for (const e of before) expect(e).to.match(ERROR_ENTRY);
      expect(new Set(before.map((e) => ERROR_ENTRY.exec(e)![2])).size, 'each request once').to.equal(20);

      renameSync(log, `${log}.1`);
      process.kill(s.daemon.child.pid!, 'SIGUSR1');
      // Every worker reopens: keep failing requests until each pid seen above has written to the new file,
      // in rounds that reach both workers (roundOnBothWorkers), looking at every entry so far (an entry can
      // land just after its response was read). Bounded: 50 rounds, 25 ms apart.
      let sent = 0;
      const seenNew = new Set<number>();
      for (let round = 0; round < 50 && seenNew.size < pids.size; round++) {
        const at = sent;
        const answers = await roundOnBothWorkers(
          () => get(s.port, `/boom-pid?after=${at}&hold=${HOLD_MS}`),
          Array.from({ length: 10 }, (_, k) => () => get(s.port, `/boom-pid?after=${at + 1 + k}`)),
        );
        sent += answers.length;
        for (const e of entries(log)) {
          const m = ERROR_ENTRY.exec(e);
          if (m !== null && m[2].startsWith('after=')) seenNew.add(Number(m[1]));
        }
        if (seenNew.size < pids.size) await new Promise((r) => setTimeout(r, 25));
      }
      expect(seenNew.size, `every worker writes to the new ${file}`).to.equal(pids.size);
      // The last round's entries may still be on their way (bounded wait), then none may be missing.
      const count = (): number => entries(`${log}.1`).filter((e) => e.includes('/boom-pid')).length - 20 + entries(log).filter((e) => e.includes('/boom-pid')).length;
      for (let i = 0; i < 100 && count() < sent; i++) await new Promise((r) => setTimeout(r, 20));
      const rotated = entries(`${log}.1`).filter((e) => e.includes('/boom-pid'));
      const fresh = entries(log).filter((e) => e.includes('/boom-pid'));
      expect(rotated.slice(0, 20)).to.deep.equal(before);
      expect(rotated.length - 20 + fresh.length, 'no entry lost across the rename').to.equal(sent);
      for (const e of [...rotated, ...fresh]) expect(e).to.match(ERROR_ENTRY);
    });
  }

  for (const store of ['file', 'redis'] as const) {
    const opts = (): string => (store === 'file' ? `tools.sessions.storage_type = file\ntools.sessions.storage_path = shared-sessions\n` : `tools.sessions.storage_type = redis\ntools.sessions.redis_url = ${redis!.url}\n`);

    it(`${store} sessions: shared by the two workers of processPool=2 and by a second server; concurrent requests of one session lose no write`, async () => {
      const a = await startToolsCli(dir, `${store}-a`, `processPool = 2\n[/]\ntools.sessions.on = 1\n${opts()}`);
      servers.push(a);
      const b = await startToolsCli(dir, `${store}-b`, `[/]\ntools.sessions.on = 1\n${opts()}`);
      servers.push(b);
      const id = setCookieId(await get(a.port, '/count'))!;
      // 10 concurrent on the pool (both workers), 10 concurrent on the other server, at once.
      const all = await Promise.all([...Array.from({ length: 10 }, () => get(a.port, '/count', id)), ...Array.from({ length: 10 }, () => get(b.port, '/count', id))]);
      const ns = all.map((r) => JSON.parse(r.body.toString()).n as number).sort((x, y) => x - y);
      expect(ns).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 2));
      const seen = JSON.parse((await get(b.port, '/whoami', id)).body.toString());
      expect(seen.session.n).to.equal(21);
    });
  }

  it('file sessions survive a restart', async () => {
    const ini = '[/]\ntools.sessions.on = 1\ntools.sessions.storage_type = file\ntools.sessions.storage_path = restart-sessions\n';
    const first = await startToolsCli(dir, 'restart-1', ini);
    const id = setCookieId(await get(first.port, '/set?kept=yes'))!;
    await first.stop();
    const second = await startToolsCli(dir, 'restart-2', ini);
    servers.push(second);
    expect(JSON.parse((await get(second.port, '/whoami', id)).body.toString()).session).to.deep.equal({ kept: 'yes' });
  });

  it('log.error_file: an error in the app is logged there with its stack trace', async () => {
    const s = await startToolsCli(dir, 'error-file', '[global]\nlog.error_file = app-error.log\n');
    servers.push(s);
    expect((await get(s.port, '/boom')).status).to.equal(500);
    const text = readFileSync(path.join(dir, 'app-error.log'), 'utf8');
    expect(text).to.match(/error in app for GET \/boom/).and.match(/Error: boom from the tools fixture\n\s+at /);
  });

  it('memory sessions under processPool: a startup warning naming the fix', async () => {
    const s = await startToolsCli(dir, 'mem-pool', 'processPool = 2\n[/]\ntools.sessions.on = 1\n');
    servers.push(s);
    expect(s.daemon.diagnostics()).to.match(/tools\.sessions\.storage_type = memory under processPool: .*use storage_type = file or redis/);
  });
});
