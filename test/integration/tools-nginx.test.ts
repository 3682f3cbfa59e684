/**
 * The tools behind real nginx over FastCGI (examples/deploy/nginx/fastcgi.conf, mounted at /app): the CLI
 * serves the tools fixture with protocol = fastcgi and processPool = 2, tools switched on from its INI file.
 * Sessions (file store, shared by both workers) keep counting through nginx and reject an injected id,
 * timing's Server-Timing reaches the client, 50 concurrent misses through nginx render once per worker at
 * most, and the access log has one line per request with the path nginx passed.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { findBinary } from './harness/binaries.js';
import { tempDir } from './harness/daemon.js';
import { requireInstalled } from './harness/skip.js';
import { startWebServer, type WebServer } from './harness/web-server.js';
import { sendRequest, type RawResponse } from '../support/http-client.js';
import { setCookieId, startToolsCli, type ToolsServer } from '../support/tools-cli.js';

describe('integration: tools behind nginx (FastCGI, processPool=2)', function () {
  this.timeout(90_000);
  let dir: string;
  let tsgi: ToolsServer | undefined;
  let web: WebServer | undefined;

  before(async function () {
    const nginx = requireInstalled(this, 'nginx', findBinary('nginx'));
    dir = tempDir('tools-nginx');
    tsgi = await startToolsCli(
      dir,
      'fcgi',
      'protocol = fastcgi\nprocessPool = 2\n[global]\nlog.access_file = access.log\n[/]\ntools.sessions.on = 1\ntools.sessions.storage_type = file\ntools.sessions.storage_path = sessions\ntools.timing.on = 1\ntools.caching.on = 1\n',
    );
    web = await startWebServer('nginx', nginx, [{ name: 'fastcgi', template: 'fastcgi.conf', vars: { NAME: 'tsgi_tools', UPSTREAM: `127.0.0.1:${tsgi.port}`, KEEP_CONN: 'on' } }]);
  });
  after(async () => {
    await web?.stop();
    await tsgi?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`${web?.diagnostics(4000) ?? ''}\n${tsgi?.daemon.diagnostics(4000) ?? ''}`);
  });

  const get = (p: string, id?: string): Promise<RawResponse> =>
    sendRequest({ port: web!.ports.fastcgi }, { method: 'GET', path: `/app${p}`, headers: id !== undefined ? [['Cookie', `session_id=${id}`]] : [] });

  it('sessions count through nginx across both workers; Server-Timing reaches the client', async () => {
    const first = await get('/count');
    const id = setCookieId(first)!;
    expect(first.headers['set-cookie']).to.match(/Path=\/app/);
    expect(first.headers['server-timing']).to.match(/^app;dur=/);
    const all = await Promise.all(Array.from({ length: 10 }, () => get('/count', id)));
    expect(all.map((r) => JSON.parse(r.body.toString()).n as number).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 10 }, (_, i) => i + 2));
  });

  it('an injected session id is replaced by a generated one', async () => {
    const r = await get('/whoami', '../../../../etc/passwd');
    const id = setCookieId(r)!;
    expect(id).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse(r.body.toString()).id).to.equal(id);
  });

  it('50 concurrent misses through nginx: one render per worker at most, all answers from those renders', async () => {
    const all = await Promise.all(Array.from({ length: 50 }, () => get('/cached?ms=300')));
    expect(all.map((r) => r.status).filter((s) => s !== 200)).to.deep.equal([]);
    const bodies = new Set(all.map((r) => r.body.toString()));
    const pids = new Set([...bodies].map((b) => JSON.parse(b).pid as number));
    expect(bodies.size, [...bodies].join('\n')).to.equal(pids.size);
    for (const b of bodies) expect(JSON.parse(b).renders).to.equal(1);
  });

  it('the access log has a line per request with the URI nginx passed', async () => {
    await get('/whoami?marker=nginx-log');
    const text = readFileSync(path.join(dir, 'access.log'), 'utf8');
    expect(text).to.match(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/app\/whoami\?marker=nginx-log HTTP\/1\.1" 200 \d+ "-" "[^"]*"$/m);
  });
});
