/**
 * A small nginx launcher for benchmarks: render a template of bench/nginx/ into a temp dir, run nginx in
 * the foreground (the test harness's Daemon: waits for the ports, stops it, keeps the logs for errors), and
 * find its worker process so its CPU time can be read.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from '../test/integration/harness/binaries.js';
import { Daemon, removeDir, tempDir } from '../test/integration/harness/daemon.js';
import { render, REPO_ROOT } from '../test/integration/harness/template.js';
import { workerUser } from '../test/integration/harness/web-server.js';

/** The folder of the bench's nginx templates (sources, not compiled: found from the repository root). */
export const NGINX_DIR = join(REPO_ROOT, 'bench', 'nginx');

/** A running nginx. */
export interface BenchNginx {
  /** The master process. */
  daemon: Daemon;
  /** The worker process (the config has `worker_processes 1`): where nginx's per-request CPU goes. */
  workerPid: number | undefined;
  /** The error log and output, for a failure message. */
  diagnostics(): string;
  stop(): Promise<void>;
}

/** Pids whose parent is `pid` (scans /proc: /proc/PID/task/PID/children is not on every kernel). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/**
 * Start nginx with bench/nginx/<template>. `vars` fills the placeholders; RUN_DIR, NGINX_DIR and USER are
 * provided. `ports` are the ports the config listens on (nginx is ready when they all accept).
 */
export async function startNginx(template: string, vars: Record<string, string | number>, ports: number[]): Promise<BenchNginx> {
  const binary = findBinary('nginx');
  if (binary === undefined) throw new Error('nginx is not installed: apt-get install nginx-light (or nginx)');
  const dir = tempDir('bench-nginx');
  try {
    for (const d of ['client_body', 'proxy', 'fastcgi', 'scgi', 'uwsgi']) mkdirSync(join(dir, d));
    const conf = join(dir, 'nginx.conf');
    const text = render(readFileSync(join(NGINX_DIR, template), 'utf8'), { RUN_DIR: dir, NGINX_DIR, USER: workerUser('nginx').user, ...vars }, template);
    writeFileSync(conf, text);
    const daemon = await Daemon.start({
      name: 'nginx',
      command: binary,
      args: ['-c', conf, '-g', 'daemon off;'],
      cwd: dir,
      ports,
      logFiles: [join(dir, 'error.log')],
    });
    const workers = daemon.child.pid === undefined ? [] : childPids(daemon.child.pid);
    return {
      daemon,
      workerPid: workers.length === 1 ? workers[0] : undefined,
      diagnostics: () => daemon.diagnostics(),
      async stop() {
        await daemon.stop();
        removeDir(dir);
      },
    };
  } catch (err) {
    removeDir(dir);
    throw err;
  }
}
