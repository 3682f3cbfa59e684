/**
 * Framework apps run as CGI unchanged: the module's default export is the Hono app, the express app or a
 * plain node:http listener itself (test/fixtures/bridge-cgi/, re-exports of examples/bridge/), and the CGI
 * entry users copy (examples/cgi/app.cgi) detects the first two by shape as the CLI does; the listener is
 * named by TSGI_INTERFACE=node in the script's environment. Served by real lighttpd mod_cgi and real Apache
 * mod_cgid (event MPM), one process per request.
 */
import { writeFileSync, chmodSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { apacheModuleDir, findBinary } from './harness/binaries.js';
import { removeDir, tempDir } from './harness/daemon.js';
import { cgiEntry } from './harness/entries.js';
import { printLogsOnFailure } from './harness/fronts.js';
import { requireInstalled } from './harness/skip.js';
import { startWebServer, type ServerKind, type SiteSpec, type WebServer } from './harness/web-server.js';
import { sendRequest } from '../support/http-client.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'bridge-cgi');
const fixture = (name: string): string => join(FIXTURES, `${name}.js`);

/** A CGI script that sets TSGI_INTERFACE and runs examples/cgi/app.cgi: what `SetEnv TSGI_INTERFACE node` does. */
function interfaceWrapper(dir: string, iface: string): string {
  const file = join(dir, `app-${iface}.cgi`);
  writeFileSync(file, `#!/bin/sh\nexport TSGI_INTERFACE='${iface}'\nexec '${process.execPath}' '${cgiEntry().script}' "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

type Get = (path: string) => ReturnType<typeof sendRequest>;
type Post = (path: string, body: string, type: string) => ReturnType<typeof sendRequest>;

function client(port: () => number): { get: Get; post: Post } {
  return {
    get: (path) => sendRequest({ port: port() }, { method: 'GET', path }),
    post: (path, body, type) => sendRequest({ port: port() }, { method: 'POST', path, headers: [['Content-Type', type]], body: Buffer.from(body) }),
  };
}

function honoCases(port: () => number): void {
  const { get, post } = client(port);
  it('Hono (default export, detected): routing, c.env, a streamed response, a request body', async () => {
    const res = await get('/app/');
    expect(res.status, res.body.toString()).to.equal(200);
    expect(res.body.toString()).to.equal('hello from hono at /app/ (127.0.0.1)\n');
    expect(JSON.parse((await get('/app/users/ann')).body.toString())).to.deep.equal({ name: 'ann' });
    expect((await get('/app/count')).body.toString()).to.equal('1\n2\n3\n4\n5\n');
    const body = 'x'.repeat(100_000);
    expect((await post('/app/echo', body, 'text/plain')).body.toString()).to.equal(body);
  });
}

function expressCases(port: () => number): void {
  const { get, post } = client(port);
  it('express (default export, detected): routing, helmet, two cookies, express.json()', async () => {
    const res = await get('/app/');
    expect(res.status, res.body.toString()).to.equal(200);
    expect(res.body.toString()).to.equal('hello from express at /app/ (127.0.0.1)\n');
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
    expect(res.headers['set-cookie']).to.equal('seen=1; Path=/\nlang=en; Path=/');
    const made = await post('/app/items', '{"name":"lamp"}', 'application/json');
    expect(made.status).to.equal(201);
    expect(JSON.parse(made.body.toString())).to.deep.equal({ created: { name: 'lamp' } });
  });
}

function listenerCases(port: () => number): void {
  const { get, post } = client(port);
  it('node:http listener (default export, TSGI_INTERFACE=node): write + end, a body read from req', async () => {
    const res = await get('/app/some/where?q=1');
    expect(res.status, res.body.toString()).to.equal(200);
    expect(res.body.toString()).to.equal('hello from node:http at /some/where?q=1 (127.0.0.1)\n');
    expect((await post('/app/', 'y'.repeat(70_000), 'application/octet-stream')).body.toString()).to.equal('received 70000 bytes\n');
  });
}

function suite(kind: ServerKind, label: string, binary: () => string | undefined): void {
  describe(`integration: framework apps as CGI under ${label}`, function () {
    this.timeout(60_000);
    let web: WebServer | undefined;
    let scripts: string | undefined;

    before(async function () {
      const bin = requireInstalled(this, kind === 'apache' ? 'apache2' : kind, binary());
      const main: Record<string, string> = kind === 'apache' ? { MODULES: requireInstalled(this, 'apache2 modules', apacheModuleDir()) } : {};
      scripts = tempDir(`bridge-cgi-${kind}`);
      const cgi = cgiEntry();
      const node = interfaceWrapper(scripts, 'node');
      const site = (name: string, script: string, app: string): SiteSpec => ({ name, template: 'cgi.conf', vars: { CGI_SCRIPT: script, CGI_DIR: dirname(script), APP: app } });
      web = await startWebServer(kind, bin, [site('hono', cgi.script, fixture('hono')), site('express', cgi.script, fixture('express')), site('node', node, fixture('listener'))], main);
    });

    after(async () => {
      await web?.stop();
      if (scripts !== undefined) removeDir(scripts);
    });

    printLogsOnFailure(() => [{ label, text: () => web?.diagnostics(6000) ?? '' }]);

    const port = (site: string) => () => web!.ports[site];
    honoCases(port('hono'));
    expressCases(port('express'));
    listenerCases(port('node'));
  });
}

suite('lighttpd', 'lighttpd mod_cgi', () => findBinary('lighttpd'));
suite('apache', 'Apache mod_cgid', () => findBinary('apache2') ?? findBinary('httpd'));
