/**
 * The tools switched on from an INI file and served for real through serve(), in single mode and in
 * threadPool mode (the tools are built in each thread; the response cache lives in the pool's shared cache):
 * file sessions keep counting across requests (and threads), a path section switches a tool off, timing
 * adds Server-Timing and logs slow requests, 50 concurrent misses render once, and the access log has one
 * well-formed combined line per request.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { loadConfig } from '../gateway/config/load.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { serve, type Running } from '../gateway/serve.js';
import { closeSessionStores } from '../app-api/tools/index.js';
import { sendRequest, type RawResponse } from './support/http-client.js';
import { COMBINED, setCookieId } from './support/tools-cli.js';

/** The compiled fixture (dist/test/fixtures/tools/app.js), its lint-wrapped default export. */
export const TOOLS_APP = `${fileURLToPath(new URL('./fixtures/tools/app.js', import.meta.url))}:default`;

describe('tools through serve(): single and threadPool', function () {
  this.timeout(60_000);
  let dir: string;
  let running: Running | undefined;
  let memory: MemoryLog;
  let n = 0;

  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'tsgi-tools-serve-'))));
  afterEach(async () => {
    await running?.close(1000);
    running = undefined;
  });
  after(async () => {
    await closeSessionStores();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ['single', 'threadPool'] as const) {
    describe(mode, () => {
      async function start(tools: string): Promise<{ port: number; access: string }> {
        const k = ++n;
        const file = path.join(dir, `s${k}.cfg`);
        const access = path.join(dir, `access${k}.log`);
        writeFileSync(file, `[server]\nsocketPort = 0\n${mode === 'threadPool' ? 'threadPool = 2\n' : ''}[global]\nlog.access_file = access${k}.log\n${tools}`);
        memory = new MemoryLog();
        running = await serve({ config: loadConfig(file), app: TOOLS_APP, log: new ErrorLog(memory) });
        return { port: Number(new URL(running.url).port), access };
      }
      const get = (port: number, p: string, id?: string): Promise<RawResponse> =>
        sendRequest({ port }, { method: 'GET', path: p, headers: id !== undefined ? [['Cookie', `session_id=${id}`]] : [] });

      it('file sessions count across requests; [/whoami] switches sessions off; timing adds Server-Timing', async () => {
        const { port } = await start(`[/]\ntools.sessions.on = 1\ntools.sessions.storage_type = file\ntools.sessions.storage_path = sessions-${mode}\ntools.timing.on = 1\n[/whoami]\ntools.sessions.on = 0\n`);
        const first = await get(port, '/count');
        const id = setCookieId(first)!;
        expect(JSON.parse(first.body.toString())).to.deep.equal({ n: 1, id });
        expect(first.headers['server-timing']).to.match(/^app;dur=\d+(\.\d)?$/);
        let last = 1;
        for (let i = 0; i < 5; i++) last = JSON.parse((await get(port, '/count', id)).body.toString()).n as number;
        expect(last).to.equal(6);
        const off = await get(port, '/whoami', id);
        expect(JSON.parse(off.body.toString()).session, 'no session under [/whoami]').to.equal(null);
        expect(off.headers['set-cookie']).to.equal(undefined);
        expect(off.headers['server-timing'], 'timing inherited from [/]').to.match(/^app;dur=/);
      });

      it('a request slower than slow_ms is logged with its method, path and status', async () => {
        const { port } = await start('[/]\ntools.timing.on = 1\ntools.timing.slow_ms = 100\n');
        await get(port, '/slow?ms=10');
        await get(port, '/slow?ms=150');
        // The line is written before the response ends; in threadPool it crosses to the main thread's log.
        for (let i = 0; i < 50 && !memory.text.includes('/slow?ms=150'); i++) await new Promise((r) => setTimeout(r, 20));
        expect(memory.text).to.match(/slow request: GET \/slow\?ms=150 200 took \d+ ms \(slow_ms 100\)/);
        expect(memory.text).to.not.include('/slow?ms=10 ');
      });

      it('50 concurrent misses of one cacheable page render it once; the access log has 50 well-formed lines', async () => {
        const { port, access } = await start('[/]\ntools.caching.on = 1\n');
        const all = await Promise.all(Array.from({ length: 50 }, () => get(port, '/cached?ms=200')));
        const bodies = new Set(all.map((r) => r.body.toString()));
        expect(all.map((r) => r.status).filter((s) => s !== 200), memory.text).to.deep.equal([]);
        expect(bodies.size, [...bodies].join('\n')).to.equal(1);
        expect(JSON.parse([...bodies][0]).renders).to.equal(1);
        const again = await get(port, '/cached?ms=200');
        expect(again.body.toString()).to.equal([...bodies][0]);
        expect(again.headers.age).to.match(/^\d+$/);
        const lines = readFileSync(access, 'utf8').split('\n').filter((l) => l !== '');
        expect(lines).to.have.length(51);
        for (const l of lines) expect(l).to.match(COMBINED);
      });
    });
  }
});
