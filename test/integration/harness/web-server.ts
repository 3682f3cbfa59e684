/**
 * Start nginx, Apache or lighttpd from the templates of examples/deploy/: the main config of that server
 * plus one site file per front, each on its own free loopback port, all in ONE server process per suite.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Daemon, removeDir, tempDir } from './daemon.js';
import { freePort } from './ports.js';
import { renderDeploy } from './template.js';

/** Which server. */
export type ServerKind = 'nginx' | 'apache' | 'lighttpd';

/** One site: a template under examples/deploy/<kind>/ and its placeholder values (LISTEN is filled in). */
export interface SiteSpec {
  /** A label, used for the file name. */
  name: string;
  /** Template file name in examples/deploy/<kind>/. */
  template: string;
  vars: Record<string, string | number>;
}

/** A running web server with one port per site. */
export interface WebServer {
  kind: ServerKind;
  /** Temp dir with the rendered configs, logs and pid file. */
  dir: string;
  /** site name -> the port it listens on. */
  ports: Record<string, number>;
  daemon: Daemon;
  diagnostics(tail?: number): string;
  stop(): Promise<void>;
}

/** How each server runs in the foreground with a config file, and where its error log goes. */
const HOW: Record<ServerKind, { main: string; args(conf: string): string[]; stopSignal: NodeJS.Signals; errorLog: string }> = {
  nginx: { main: 'main.conf', args: (conf) => ['-c', conf, '-g', 'daemon off;'], stopSignal: 'SIGTERM', errorLog: 'error.log' },
  // -DFOREGROUND: one parent process that stays attached; workers still run as User/Group.
  apache: { main: 'main.conf', args: (conf) => ['-f', conf, '-DFOREGROUND'], stopSignal: 'SIGTERM', errorLog: 'error.log' },
  lighttpd: { main: 'main.conf', args: (conf) => ['-D', '-f', conf], stopSignal: 'SIGTERM', errorLog: 'error.log' },
};

/**
 * The user the server's workers (and the processes they spawn) run as. nginx may keep root; Apache refuses
 * root and lighttpd refuses `server.username = root`, so as root they get www-data, the Debian default.
 */
export function workerUser(kind: ServerKind): { user: string; group: string } {
  const me = userInfo();
  if (me.uid !== 0) return { user: me.username, group: me.username };
  if (kind === 'nginx') return { user: 'root', group: 'root' };
  return { user: 'www-data', group: 'www-data' };
}

/** Give the run dir to the worker user, so it can create sockets and spool bodies there. */
function handOver(dir: string, user: string, group: string): void {
  if (userInfo().uid !== 0 || user === 'root') return;
  execFileSync('chown', ['-R', `${user}:${group}`, dir]);
}

/**
 * Render and start. `mainVars` fills the main template (RUN_DIR, SITES, USER and GROUP are provided);
 * each site gets LISTEN=127.0.0.1:<free port> and MOUNT defaults to /app.
 */
export async function startWebServer(kind: ServerKind, binary: string, sites: SiteSpec[], mainVars: Record<string, string | number> = {}): Promise<WebServer> {
  const dir = tempDir(kind);
  try {
    const how = HOW[kind];
    mkdirSync(join(dir, 'sites'));
    mkdirSync(join(dir, 'htdocs'));
    const ports: Record<string, number> = {};
    for (const [i, site] of sites.entries()) {
      const port = await freePort();
      ports[site.name] = port;
      // nginx/fastcgi.conf: an upstream keepalive pool only with fastcgi_keep_conn on (see the template).
      const keepalive = site.vars.KEEP_CONN === 'on' ? 'keepalive 16;' : '# no keepalive: fastcgi_keep_conn is off';
      const text = renderDeploy(`${kind}/${site.template}`, { MOUNT: '/app', RUN_DIR: dir, LISTEN: `127.0.0.1:${port}`, PORT: port, UPSTREAM_KEEPALIVE: keepalive, ...site.vars });
      writeFileSync(join(dir, 'sites', `${String(i).padStart(2, '0')}-${site.name}.conf`), text);
    }
    const { user, group } = workerUser(kind);
    const mainPort = await freePort();
    const conf = join(dir, how.main);
    writeFileSync(conf, renderDeploy(`${kind}/${how.main}`, { RUN_DIR: dir, SITES: join(dir, 'sites', '*.conf'), USER: user, GROUP: group, PORT: mainPort, ...mainVars }));
    handOver(dir, user, group);
    const daemon = await Daemon.start({
      name: kind,
      command: binary,
      args: how.args(conf),
      cwd: dir,
      ports: [mainPort, ...Object.values(ports)].filter((p) => kind === 'lighttpd' || p !== mainPort),
      logFiles: [join(dir, how.errorLog)],
      stopSignal: how.stopSignal,
    });
    return {
      kind,
      dir,
      ports,
      daemon,
      diagnostics: (tail?: number) => daemon.diagnostics(tail),
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
