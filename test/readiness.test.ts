/**
 * readyPath and drainDelay (gateway/health), through the real `tsgi` command in every concurrency model: the
 * endpoint answers 200 while serving, 503 after SIGTERM while the server still accepts (drainDelay), the app
 * keeps answering meanwhile, and the app never sees the readiness requests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const CLI = fileURLToPath(new URL('../gateway/cli.js', import.meta.url));
const APP = fileURLToPath(new URL('./fixtures/health/app.js', import.meta.url));

interface Reply {
  status: number;
  body: string;
}

/** One request on a fresh connection (no keep-alive: each check is a new connection, as a balancer's). */
function request(url: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** A `tsgi` process; `url` from its start line. */
class Server {
  readonly proc: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;
  constructor(config: string) {
    this.proc = spawn(process.execPath, [CLI, APP, '-C', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (b: Buffer) => (this.output += b.toString()));
    this.proc.stderr!.on('data', (b: Buffer) => (this.output += b.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }
  /** Wait (bounded, 600 x 100 ms) for the start line: the signal handlers are installed once it is out. */
  async url(): Promise<string> {
    for (let i = 0; i < 600; i++) {
      const m = /serving .* on (http:\/\/[\d.]+:\d+)/.exec(this.output);
      if (m !== null) return m[1];
      if (this.proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no start line from tsgi:\n${this.output}`);
  }
  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

const MODES: Record<string, string> = {
  single: '',
  threading: 'threading = 1',
  'threadPool = 2': 'threadPool = 2',
  'processPool = 2': 'processPool = 2',
  forking: 'forking = 1',
};

describe('readyPath: readiness for a load balancer, 503 while draining, in every mode', function () {
  this.timeout(120_000);
  let dir: string;
  const servers: Server[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsgi-ready-'));
  });
  after(() => {
    for (const s of servers) s.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, modeLine] of Object.entries(MODES)) {
    it(`${name}: 200 while serving; after SIGTERM 503 while the app still answers (drainDelay)`, async () => {
      const config = join(dir, `${name.replace(/\W+/g, '-')}.cfg`);
      // drainDelay far longer than the test needs: the window cannot close under a slow machine.
      writeFileSync(config, `[server]\nsocketPort = 0\nreadyPath = /ready\ndrainDelay = 600\ngracefulTimeout = 5\n${modeLine}\n`);
      const server = new Server(config);
      servers.push(server);
      const url = await server.url();

      expect(await request(`${url}/ready`)).to.deep.equal({ status: 200, body: 'ready\n' });
      // HAProxy's default check (`option httpchk` alone) is OPTIONS /: any method is answered.
      expect((await request(`${url}/ready`, 'OPTIONS')).status).to.equal(200);
      expect(await request(`${url}/other`)).to.deep.equal({ status: 200, body: 'app /other\n' });

      server.proc.kill('SIGTERM');
      let seen: Reply | undefined;
      // Bounded: 600 x 100 ms. Under forking each check may wait for a child to boot.
      for (let i = 0; i < 600; i++) {
        seen = await request(`${url}/ready`);
        if (seen.status !== 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(seen).to.deep.equal({ status: 503, body: 'draining\n' });
      // Still accepting and serving the app during drainDelay, so no request the balancer still sends fails.
      expect(await request(`${url}/still`)).to.deep.equal({ status: 200, body: 'app /still\n' });
      expect((await request(`${url}/ready`, 'HEAD')).status).to.equal(503);

      // A second SIGTERM ends the delay at once (signals.ts: exit 1 without waiting).
      server.proc.kill('SIGTERM');
      expect(await server.exited).to.equal(1);
    });
  }

  it('drainDelay = 0: readyPath is 200 until the stop, and the server stops accepting at once (exit 0)', async () => {
    const config = join(dir, 'no-delay.cfg');
    writeFileSync(config, `[server]\nsocketPort = 0\nreadyPath = /ready\n`);
    const server = new Server(config);
    servers.push(server);
    const url = await server.url();
    expect(await request(`${url}/ready`)).to.deep.equal({ status: 200, body: 'ready\n' });
    server.proc.kill('SIGTERM');
    expect(await server.exited).to.equal(0);
  });

  it('under scriptName: readyPath below the mount is answered, the rest of the mount is the app\'s', async () => {
    const config = join(dir, 'mounted.cfg');
    writeFileSync(config, `[server]\nsocketPort = 0\nscriptName = /app\nreadyPath = /app/ready\n`);
    const server = new Server(config);
    servers.push(server);
    const url = await server.url();
    expect(await request(`${url}/app/ready`)).to.deep.equal({ status: 200, body: 'ready\n' });
    expect(await request(`${url}/app/ready/more`)).to.deep.equal({ status: 200, body: 'app /ready/more\n' });
    server.proc.kill('SIGTERM');
    expect(await server.exited).to.equal(0);
  });

  it('without readyPath the path is the app\'s', async () => {
    const config = join(dir, 'off.cfg');
    writeFileSync(config, `[server]\nsocketPort = 0\n`);
    const server = new Server(config);
    servers.push(server);
    const url = await server.url();
    expect(await request(`${url}/ready`)).to.deep.equal({ status: 200, body: 'app /ready\n' });
    server.proc.kill('SIGTERM');
    expect(await server.exited).to.equal(0);
  });
});
