/**
 * The bridge examples (examples/bridge/all.ts: an express 5 app with helmet and JSON parsing, a Hono app with
 * a streamed response, a node:http listener) served unchanged by real fronts: the built-in server started by
 * the CLI, FastCGI behind real nginx (examples/deploy/nginx/fastcgi.conf), and CGI under real lighttpd
 * mod_cgi (examples/cgi/app.cgi). Every front answers the same requests the same way.
 */
import { join, resolve, dirname } from 'node:path';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { findBinary } from './harness/binaries.js';
import { Daemon, removeDir, tempDir } from './harness/daemon.js';
import { cgiEntry } from './harness/entries.js';
import { printLogsOnFailure } from './harness/fronts.js';
import { freePort } from './harness/ports.js';
import { requireInstalled } from './harness/skip.js';
import { startWebServer, type WebServer } from './harness/web-server.js';
import { sendRequest } from '../support/http-client.js';

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(DIST, 'gateway', 'cli.js');
const ALL = join(DIST, 'examples', 'bridge', 'all.js');

interface CliServer {
  port: number;
  daemon: Daemon;
  dir: string;
}

/** `tsgi dist/examples/bridge/all.js -C tsgi.cfg` with protocol and mount /app. */
async function startCli(protocol: 'http' | 'fastcgi'): Promise<CliServer> {
  const dir = tempDir('bridge-cli');
  const port = await freePort();
  const cfg = join(dir, 'tsgi.cfg');
  writeFileSync(cfg, `[server]\nprotocol = ${protocol}\nsocketHost = 127.0.0.1\nsocketPort = ${port}\nscriptName = /app\ngracefulTimeout = 2\n`);
  try {
    const daemon = await Daemon.start({ name: `tsgi ${protocol} (bridge examples)`, command: process.execPath, args: [CLI, ALL, '-C', cfg], ports: [port] });
    return { port, daemon, dir };
  } catch (err) {
    removeDir(dir);
    throw err;
  }
}

/** The requests every front must answer alike. */
function runBridgeCases(front: string, port: () => number): void {
  const get = (path: string, headers: Array<[string, string]> = []) => sendRequest({ port: port() }, { method: 'GET', path, headers });
  const post = (path: string, body: string, type: string) =>
    sendRequest({ port: port() }, { method: 'POST', path, headers: [['Content-Type', type]], body: Buffer.from(body) });

  describe(front, () => {
    it('express: routing under the mounts, helmet headers, two cookies', async () => {
      const res = await get('/app/express/');
      expect(res.status).to.equal(200);
      expect(res.body.toString()).to.match(/^hello from express at \/app\/express\/ \(127\.0\.0\.1\)\n$/);
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['set-cookie']).to.equal('seen=1; Path=/\nlang=en; Path=/');
      const item = await get('/app/express/items/42?x=%C3%A9');
      expect(JSON.parse(item.body.toString())).to.deep.equal({ id: '42', query: { x: 'é' } });
    });

    it('express: a JSON body parsed by express.json()', async () => {
      const res = await post('/app/express/items', '{"name":"lamp","n":[1,2]}', 'application/json');
      expect(res.status).to.equal(201);
      expect(JSON.parse(res.body.toString())).to.deep.equal({ created: { name: 'lamp', n: [1, 2] } });
    });

    it('express: unknown path is express\'s own 404', async () => {
      const res = await get('/app/express/nope');
      expect(res.status).to.equal(404);
      expect(res.body.toString()).to.include('Cannot GET /app/express/nope');
    });

    it('Hono: routing, the environ as c.env, and a streamed response', async () => {
      const res = await get('/app/hono/');
      expect(res.body.toString()).to.equal('hello from hono at /app/hono/ (127.0.0.1)\n');
      const user = await get('/app/hono/users/ann');
      expect(JSON.parse(user.body.toString())).to.deep.equal({ name: 'ann' });
      const count = await get('/app/hono/count');
      expect(count.status).to.equal(200);
      expect(count.body.toString()).to.equal('1\n2\n3\n4\n5\n');
    });

    it('Hono: a request body read through the Request stream', async () => {
      const body = 'x'.repeat(200_000);
      const res = await post('/app/hono/echo', body, 'text/plain');
      expect(res.body.toString()).to.equal(body);
    });

    it('node:http listener: write + end, and a body read from req', async () => {
      const res = await get('/app/node/some/where?q=1');
      expect(res.body.toString()).to.equal('hello from node:http at /some/where?q=1 (127.0.0.1)\n');
      const up = await post('/app/node/', 'y'.repeat(70_000), 'application/octet-stream');
      expect(up.body.toString()).to.equal('received 70000 bytes\n');
    });
  });
}

describe('integration: bridge examples (express, Hono, node:http) on real fronts', function () {
  this.timeout(60_000);
  const servers: Record<string, CliServer> = {};
  let nginx: WebServer | undefined;
  let lighttpd: WebServer | undefined;

  before(async () => {
    servers.http = await startCli('http');
    servers.fastcgi = await startCli('fastcgi');
  });

  after(async () => {
    await nginx?.stop();
    await lighttpd?.stop();
    for (const s of Object.values(servers)) {
      await s.daemon.stop();
      removeDir(s.dir);
    }
  });

  printLogsOnFailure(() => [
    { label: 'nginx', text: () => nginx?.diagnostics(4000) ?? '' },
    { label: 'lighttpd', text: () => lighttpd?.diagnostics(4000) ?? '' },
    ...Object.entries(servers).map(([k, s]) => ({ label: `tsgi ${k}`, text: () => s.daemon.diagnostics() })),
  ]);

  it('the CLI start line names the bridged interface it found', async () => {
    const dir = tempDir('bridge-start');
    const port = await freePort();
    const d = await Daemon.start({ name: 'tsgi (express detected)', command: process.execPath, args: [CLI, `${join(DIST, 'examples', 'bridge', 'express-app.js')}:web`, '--socket-port', String(port)], ports: [port] });
    try {
      // The start line is written right after listen(): wait for it (bounded) before reading it.
      for (let i = 0; i < 50 && !d.diagnostics().includes('tsgi: serving'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(d.diagnostics()).to.match(/tsgi: serving \S+express-app\.js:web on http:\/\/127\.0\.0\.1:\d+ \(single, pid \d+, express app \(detected\)\)/);
      const res = await sendRequest({ port }, { method: 'GET', path: '/' });
      expect(res.body.toString()).to.match(/^hello from express at \/ /);
    } finally {
      await d.stop();
      removeDir(dir);
    }
  });

  runBridgeCases('built-in HTTP server (CLI, scriptName=/app)', () => servers.http.port);

  describe('behind nginx fastcgi_pass', () => {
    before(async function () {
      const bin = requireInstalled(this, 'nginx', findBinary('nginx'));
      nginx = await startWebServer('nginx', bin, [
        { name: 'fastcgi', template: 'fastcgi.conf', vars: { NAME: 'tsgi_bridge', UPSTREAM: `127.0.0.1:${servers.fastcgi.port}`, KEEP_CONN: 'on' } },
      ]);
    });
    runBridgeCases('nginx -> tsgi FastCGI (CLI)', () => nginx!.ports.fastcgi);
  });

  describe('under lighttpd mod_cgi', () => {
    before(async function () {
      const bin = requireInstalled(this, 'lighttpd', findBinary('lighttpd'));
      const cgi = cgiEntry();
      lighttpd = await startWebServer('lighttpd', bin, [{ name: 'cgi', template: 'cgi.conf', vars: { CGI_SCRIPT: cgi.script, APP: ALL } }]);
    });
    runBridgeCases('lighttpd mod_cgi -> CGI (examples/cgi/app.cgi)', () => lighttpd!.ports.cgi);
  });
});
