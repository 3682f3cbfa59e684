/**
 * The three-host deployment of examples/deploy/scale-out, for real on one machine: hosts 1-3 are network
 * namespaces running tsgi from the same rendered server.cfg (processPool = 2, sessions in redis), redis-server
 * runs on a fourth namespace host, and nginx and HAProxy run in the root namespace on loopback ports, in
 * front of all three hosts. Used by test/integration/scale-out.test.ts and the `npm run scaleout` script.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { Daemon, removeDir, tempDir } from './daemon.js';
import { HostNet, type NetHost } from './netns.js';
import { canConnect, freePort } from './ports.js';
import { REPO_ROOT, renderDeploy } from './template.js';

/** The ports every host uses inside its own namespace (the same config on every host). */
export const HTTP_PORT = 8080;
export const PROXY_PORT = 8081;
const REDIS_PORT = 6379;

/** The binaries the deployment needs; the names of the missing ones. */
export function missingBinaries(): string[] {
  return ['nginx', 'haproxy', 'redis-server'].filter((b) => findBinary(b) === undefined);
}

/** A tsgi host: its namespace and the tsgi process running there (null while down). */
export interface TsgiHost extends NetHost {
  proc: ChildProcess | null;
  output: string;
  exited: Promise<number | null> | null;
}

/** Options of ScaleOutCluster.start. */
export interface ClusterOptions {
  /** The app module tsgi serves (compiled .js). Default: the example app. */
  app?: string;
  /** Extra `tsgi` flags for every host, after `-C server.cfg` (e.g. `--drain-delay 0` to compare). */
  tsgiArgs?: string[];
}

/** One GET, fresh connection; status and body. */
export function get(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The running deployment. Call stop() in an after() hook: it removes every namespace and process. */
export class ScaleOutCluster {
  readonly hosts: TsgiHost[] = [];
  nginxUrl = '';
  haproxyUrl = '';
  private redisHost: NetHost | undefined;
  private daemons: Daemon[] = [];
  private redisProc: ChildProcess | null = null;
  readonly dir: string;
  readonly config: string;

  private constructor(readonly net: HostNet, readonly app: string, readonly tsgiArgs: readonly string[]) {
    this.dir = tempDir('scaleout');
    this.config = join(this.dir, 'server.cfg');
  }

  /** Build the network, start redis, the three hosts, nginx and HAProxy. On failure everything is removed. */
  static async start(opts: ClusterOptions = {}): Promise<ScaleOutCluster> {
    const app = opts.app ?? join(REPO_ROOT, 'dist', 'examples', 'deploy', 'scale-out', 'app.js');
    const c = new ScaleOutCluster(HostNet.create(), app, opts.tsgiArgs ?? []);
    try {
      await c.boot();
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  private async boot(): Promise<void> {
    const redis = this.net.addHost('redis', 20);
    this.redisHost = redis;
    for (let i = 1; i <= 3; i++) this.hosts.push({ ...this.net.addHost(`host${i}`, 10 + i), proc: null, output: '', exited: null });
    // redis on its own host, no persistence: the sessions live only there.
    const r = HostNet.exec(redis, [findBinary('redis-server')!, '--bind', redis.addr, '--port', String(REDIS_PORT), '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
    this.redisProc = spawn(r.command, r.args, { stdio: 'ignore' });
    await this.waitConnect(redis.addr, REDIS_PORT, 'redis-server');

    writeFileSync(this.config, renderDeploy('scale-out/server.cfg', {
      HTTP_PORT,
      PROXY_PORT,
      PROXY_ADDR: this.net.gateway,
      REDIS_URL: `redis://${redis.addr}:${REDIS_PORT}`,
    }));
    await Promise.all(this.hosts.map((_h, i) => this.startHost(i)));

    const runDir = join(this.dir, 'fronts');
    for (const d of ['client_body', 'proxy', 'fastcgi', 'scgi', 'uwsgi']) mkdirSync(join(runDir, d), { recursive: true });
    const nginxPort = await freePort();
    const haproxyPort = await freePort();
    const hostVars = (port: number): Record<string, string> => Object.fromEntries(this.hosts.map((h, i) => [`HOST${i + 1}`, `${h.addr}:${port}`]));
    const nginxConf = join(runDir, 'nginx.conf');
    writeFileSync(nginxConf, renderDeploy('scale-out/nginx.conf', { RUN_DIR: runDir, LISTEN: `127.0.0.1:${nginxPort}`, ...hostVars(HTTP_PORT) }));
    const haproxyConf = join(runDir, 'haproxy.cfg');
    writeFileSync(haproxyConf, renderDeploy('scale-out/haproxy.cfg', { RUN_DIR: runDir, LISTEN: `127.0.0.1:${haproxyPort}`, ...hostVars(PROXY_PORT) }));
    this.daemons.push(await Daemon.start({ name: 'nginx', command: findBinary('nginx')!, args: ['-c', nginxConf, '-g', 'daemon off;'], ports: [nginxPort], logFiles: [join(runDir, 'error.log')] }));
    this.daemons.push(await Daemon.start({ name: 'haproxy', command: findBinary('haproxy')!, args: ['-db', '-f', haproxyConf], ports: [haproxyPort] }));
    this.nginxUrl = `http://127.0.0.1:${nginxPort}`;
    this.haproxyUrl = `http://127.0.0.1:${haproxyPort}`;
  }

  /** Wait (bounded, 60 s) until `addr:port` accepts a connection from the root namespace. */
  private async waitConnect(addr: string, port: number, what: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if (await canConnect({ host: addr, port })) return;
      await sleep(100);
    }
    throw new Error(`${what} on ${addr}:${port} did not accept connections within 60 s`);
  }

  /**
   * Start tsgi on host `i` (0-based) with the shared config; resolves once its readyPath answers 200 on
   * both listeners from the root namespace (what the balancers see). Returns the time that took, ms.
   */
  async startHost(i: number): Promise<number> {
    const h = this.hosts[i];
    const t0 = Date.now();
    const cmd = HostNet.exec(h, [process.execPath, join(REPO_ROOT, 'dist', 'gateway', 'cli.js'), this.app, '-C', this.config, ...this.tsgiArgs]);
    const proc = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSGI_HOST: h.label } });
    h.proc = proc;
    h.output = '';
    const keep = (b: Buffer): void => {
      h.output = (h.output + b.toString()).slice(-32_000);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    h.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    // Bounded: 600 x 100 ms; a host that exits meanwhile fails at once with its output.
    for (let n = 0; n < 600; n++) {
      if (proc.exitCode !== null) throw new Error(`tsgi on ${h.label} exited (${proc.exitCode}):\n${h.output}`);
      // The start line: the signal handlers are installed once it is out.
      if (/serving /.test(h.output)) {
        const ok = await get(`http://${h.addr}:${HTTP_PORT}/ready`).then((r) => r.status === 200, () => false);
        if (ok) return Date.now() - t0;
      }
      await sleep(100);
    }
    throw new Error(`tsgi on ${h.label} was not ready within 60 s:\n${h.output}`);
  }

  /** SIGKILL every process of host `i` (the tsgi primary and its workers): the host dies. */
  killHost(i: number): number {
    const n = HostNet.killAll(this.hosts[i]);
    this.hosts[i].proc = null;
    return n;
  }

  /** SIGTERM host `i`'s tsgi (graceful stop with drainDelay); resolves to its exit code. */
  async termHost(i: number): Promise<number | null> {
    const h = this.hosts[i];
    h.proc?.kill('SIGTERM');
    const code = await h.exited;
    h.proc = null;
    return code;
  }

  /** The output of every host and front, for a failing test. */
  diagnostics(): string {
    return [...this.hosts.map((h) => `--- tsgi on ${h.label}:\n${h.output}`), ...this.daemons.map((d) => d.diagnostics(8000))].join('\n');
  }

  /** Stop the fronts, kill everything in the namespaces, remove them, the bridge and the temp dir. */
  async stop(): Promise<void> {
    await Promise.all(this.daemons.map((d) => d.stop(5000)));
    this.daemons = [];
    this.net.destroy();
    this.redisProc?.kill('SIGKILL');
    removeDir(this.dir);
  }
}
