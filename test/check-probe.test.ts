/**
 * `tsgi check --probe` through real fronts: each front runs with the snippet tsgi check generated (inside
 * the wrapper main config it writes), the check serves the INI's listener with its probe app and sends a
 * request through the front from 127.0.0.2; the report must show what the app really saw. Then three
 * misconfigurations made by hand in a snippet or INI are recognised: buffering on (Apache), the proxy not
 * trusted and the whole path in SCRIPT_NAME (nginx). A missing server skips (fails on CI).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { CHECK_FRONTS } from '../gateway/check/fronts.js';
import { findExecutable, writeWrapped } from '../gateway/check/syntax.js';
import type { FrontName } from '../gateway/check/types.js';
import { Daemon, removeDir, tempDir } from './integration/harness/daemon.js';
import { freePort } from './integration/harness/ports.js';
import { requireInstalled } from './integration/harness/skip.js';
import { check, checkCli, writeIni } from './support/check-run.js';

interface RunningFront {
  port: number;
  daemon: Daemon;
  dir: string;
  stop(): Promise<void>;
}

/** Start `front` in the foreground with `snippet` inside tsgi check's wrapper main config. */
async function startFront(front: FrontName, snippet: string, port: number): Promise<RunningFront> {
  const r = CHECK_FRONTS[front];
  const dir = tempDir(`check-${front}`);
  mkdirSync(path.join(dir, 'logs'));
  const w = writeWrapped(r, snippet, { host: '127.0.0.1', port }, dir);
  // Apache and lighttpd run their workers as www-data when started as root (the wrapper says so): give
  // them the dir for their logs.
  if (process.getuid?.() === 0 && (front === 'apache' || front === 'lighttpd')) execFileSync('chown', ['-R', 'www-data:www-data', dir]);
  const daemon = await Daemon.start({ name: front, command: findExecutable(r.syntax.binary)!, args: r.syntax.runArgs(w.mainFile, w.snippetFile, dir), cwd: dir, ports: [port], logFiles: [path.join(dir, 'error.log')], startLimitMs: 30_000 });
  return { port, daemon, dir, stop: async () => { await daemon.stop(); removeDir(dir); } };
}

/** An INI whose [server] listens on a free port; returns the file and the generated snippet for `front`. */
async function setUp(front: FrontName, ini: (port: number) => string, listen: number): Promise<{ ini: string; snippet: string }> {
  const file = writeIni(ini(await freePort()));
  const r = await check(['-C', file, '--front', front, '--front-listen', `127.0.0.1:${listen}`, '--no-syntax']);
  expect(r.code, r.stderr).to.equal(0);
  return { ini: file, snippet: r.stdout };
}

const LIVE: { front: FrontName; protocol: string; ini: (port: number) => string }[] = [
  { front: 'nginx', protocol: 'fastcgi', ini: (p) => `[server]\nprotocol = fastcgi\nsocketPort = ${p}\nscriptName = /app\n` },
  { front: 'apache', protocol: 'http', ini: (p) => `[server]\nprotocol = http\nsocketPort = ${p}\nscriptName = /app\n` },
  { front: 'lighttpd', protocol: 'scgi', ini: (p) => `[server]\nprotocol = scgi\nsocketPort = ${p}\nscriptName = /app\n` },
  { front: 'haproxy', protocol: 'http', ini: (p) => `[server]\nprotocol = http\nsocketPort = ${p}\nscriptName = /app\nproxyProtocol = 1\n` },
];

for (const live of LIVE) {
  describe(`tsgi check --probe through ${live.front} (${live.protocol}${live.front === 'haproxy' ? ', PROXY v2' : ''})`, function () {
    this.timeout(180_000);
    let front: RunningFront | undefined;
    let ini = '';
    before(async function () {
      requireInstalled(this, CHECK_FRONTS[live.front].syntax.binary, findExecutable(CHECK_FRONTS[live.front].syntax.binary));
      const port = await freePort();
      const s = await setUp(live.front, live.ini, port);
      ini = s.ini;
      front = await startFront(live.front, s.snippet, port);
    });
    after(async () => {
      await front?.stop();
    });

    it('reports what the app saw: the client in REMOTE_ADDR, the scheme, the mount split, the protocol; exit 0', async () => {
      const r = await checkCli(['-C', ini, '--front', live.front, '--front-listen', `127.0.0.1:${front!.port}`, '--probe', `http://127.0.0.1:${front!.port}/app/`]);
      const why = `${r.stderr}\n${front!.daemon.diagnostics(4000)}`;
      expect(r.stderr, why).to.match(new RegExp(`probe: GET http://127\\.0\\.0\\.1:${front!.port}/app/tsgi-check-probe from 127\\.0\\.0\\.2 through ${live.front} -> 200`));
      expect(r.stderr, why).to.match(new RegExp(`tsgi saw: protocol=${live.protocol} REMOTE_ADDR=127\\.0\\.0\\.2 scheme=http SCRIPT_NAME="/app" PATH_INFO="/tsgi-check-probe"`));
      expect(r.stderr).to.match(/ok: REMOTE_ADDR: 127\.0\.0\.2, the client/);
      expect(r.stderr).to.match(/ok: SCRIPT_NAME split/);
      expect(r.stderr).to.match(/ok: scheme: http/);
      expect(r.stderr, 'the generated snippet streams').to.match(/ok: buffering: off/);
      expect(r.stderr).to.not.match(/error:/);
      expect(r.code, why).to.equal(0);
    });
  });
}

describe('tsgi check --probe recognises misconfigurations', function () {
  this.timeout(180_000);
  before(function () {
    requireInstalled(this, 'nginx', findExecutable('nginx'));
  });

  it('buffering on (Apache mod_proxy_fcgi without flushpackets): the first part waits for the app to finish (a warning, exit 0)', async function () {
    requireInstalled(this, 'apache2', findExecutable('apache2'));
    const port = await freePort();
    const s = await setUp('apache', (p) => `[server]\nprotocol = fastcgi\nsocketPort = ${p}\nscriptName = /app\n`, port);
    const edited = s.snippet.replace(' flushpackets=on', '');
    expect(edited).to.not.equal(s.snippet);
    const front = await startFront('apache', edited, port);
    try {
      const file = path.join(path.dirname(s.ini), 'edited.conf');
      writeFileSync(file, edited);
      const r = await checkCli(['-C', s.ini, '--front', 'apache', '--front-listen', `127.0.0.1:${port}`, '--snippet', file, '--probe', `http://127.0.0.1:${port}/app`]);
      expect(r.stderr, r.stderr).to.match(/warn: buffering: on: the front held the first part of the answer until the app finished .*flushpackets=on/);
      expect(r.stderr).to.match(/ok: SCRIPT_NAME split/);
      expect(r.code, r.stderr).to.equal(0);
    } finally {
      await front.stop();
    }
  });

  it('proxy not trusted: REMOTE_ADDR is nginx, and the line names trustedProxies and the address to add (exit 1)', async () => {
    const port = await freePort();
    const s = await setUp('nginx', (p) => `[server]\nsocketPort = ${p}\nscriptName = /app\n`, port);
    const front = await startFront('nginx', s.snippet, port);
    try {
      // The same INI with a trustedProxies that leaves nginx out.
      const ini = writeIni(`${(await import('node:fs')).readFileSync(s.ini, 'utf8')}trustedProxies = 10.9.9.9\n`);
      const r = await checkCli(['-C', ini, '--front', 'nginx', '--front-listen', `127.0.0.1:${port}`, '--probe', `http://127.0.0.1:${port}/app/`]);
      expect(r.stderr).to.match(/tsgi saw: protocol=http REMOTE_ADDR=127\.0\.0\.1 /);
      expect(r.stderr).to.match(/error: proxy not trusted: tsgi got the request from 127\.0\.0\.1, which is not in trustedProxies \(10\.9\.9\.9\) of \[server\], so REMOTE_ADDR is the front, not the client 127\.0\.0\.2; add 127\.0\.0\.1 to trustedProxies/);
      expect(r.code).to.equal(1);
    } finally {
      await front.stop();
    }
  });

  it('wrong SCRIPT_NAME split: PHP-style $fastcgi_script_name sends the whole path as SCRIPT_NAME (exit 1)', async () => {
    const port = await freePort();
    const s = await setUp('nginx', (p) => `[server]\nprotocol = fastcgi\nsocketPort = ${p}\n`, port);
    const edited = s.snippet.replace(/fastcgi_param SCRIPT_NAME\s+"";/, 'fastcgi_param SCRIPT_NAME $fastcgi_script_name;').replace(/\s+fastcgi_param PATH_INFO\s+\$tsgi_path_info;/, '');
    expect(edited).to.match(/\$fastcgi_script_name/).and.not.match(/PATH_INFO/);
    const front = await startFront('nginx', edited, port);
    try {
      const r = await checkCli(['-C', s.ini, '--front', 'nginx', '--front-listen', `127.0.0.1:${port}`, '--no-syntax', '--probe', `http://127.0.0.1:${port}/app/`]);
      expect(r.stderr).to.match(/error: wrong SCRIPT_NAME split: for the path \/app\/tsgi-check-probe the app got SCRIPT_NAME "\/app\/tsgi-check-probe" and PATH_INFO ""; the front sends the whole path as SCRIPT_NAME .*set scriptName = \/app in \[server\]/);
      expect(r.code).to.equal(1);
    } finally {
      await front.stop();
    }
  });
});
