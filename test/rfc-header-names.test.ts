/**
 * httpoxy and `_`/`-` header-name collisions, on every transport in one place:
 *
 * - a client's `Proxy:` header never becomes HTTP_PROXY (httpoxy, CVE-2016-5385): the HTTP fronts drop the
 *   header (gateway/core/environ.ts cgiName), the gateway fronts drop an HTTP_PROXY variable their web
 *   server passed (removedFromGateway), repeated or not;
 * - a header name with `_` never reaches the environ on the HTTP fronts, in either order next to its `-`
 *   twin, so `X_Forwarded_For` cannot shadow `X-Forwarded-For`. On FastCGI, SCGI and CGI the web server
 *   has already mapped names to HTTP_* variables: nginx and Apache drop `_` names, lighttpd 1.4 maps both
 *   spellings to one variable (README, test/integration/lighttpd.test.ts); tsgi cannot tell them apart.
 */
import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { encodeScgiHead } from '../adapters/scgi/parse.js';
import { app } from './fixtures/requests/app.js';
import { cgiParams, FcgiClient } from './support/fcgi-client.js';
import { startFcgiHarness, type FcgiHarness } from './support/fcgi-harness.js';
import { sendRaw } from './support/request-corpus.js';
import { nginxVars, parseResponse, sendRaw as sendScgi } from './support/scgi-client.js';
import { startScgiHarness, type ScgiHarness } from './support/scgi-harness.js';
import { TestServers } from './support/servers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
type Env = Record<string, string>;

/** Headers a client sends: httpoxy, and both spellings of two names in both orders. */
const HEADERS: Array<[string, string]> = [
  ['Proxy', 'http://203.0.113.66:3128'],
  ['X_Forwarded_For', '203.0.113.66'],
  ['X-Forwarded-For', '192.0.2.10'],
  ['X-Custom-Id', 'good'],
  ['X_Custom_Id', 'evil'],
];

function expectHttpRules(env: Env, front: string): void {
  expect(env, `${front}: httpoxy`).to.not.have.property('HTTP_PROXY');
  expect(env.HTTP_X_FORWARDED_FOR, `${front}: X_Forwarded_For before X-Forwarded-For`).to.equal('192.0.2.10');
  expect(env.HTTP_X_CUSTOM_ID, `${front}: X_Custom_Id after X-Custom-Id`).to.equal('good');
}

describe('httpoxy and _/- header-name collisions on every transport', function () {
  this.timeout(60_000);
  const servers = new TestServers();
  let fcgi: FcgiHarness;
  let scgi: ScgiHarness;
  before(async () => {
    fcgi = await startFcgiHarness(app);
    scgi = await startScgiHarness(app);
  });
  after(async () => {
    await servers.closeAll();
    await fcgi?.server.close(500);
    await scgi?.server.close(500);
  });

  it('HTTP/1.1: Proxy dropped, names with _ dropped in either order', async () => {
    const server = await servers.start(app);
    const raw = `GET /p HTTP/1.1\r\nHost: example.test\r\n${HEADERS.map(([n, v]) => `${n}: ${v}\r\n`).join('')}Connection: close\r\n\r\n`;
    const x = await sendRaw(server.port, Buffer.from(raw, 'latin1'));
    expect(x.responses.map((r) => r.status)).to.deep.equal([200]);
    expectHttpRules(JSON.parse(x.responses[0].body.toString()) as Env, 'HTTP/1.1');
  });

  it('HTTP/2 (h2c): the same', async () => {
    const server = await servers.start(app, { http2: true });
    const env = await new Promise<Env>((resolve, reject) => {
      const session = http2.connect(server.url);
      session.on('error', reject);
      const headers: Record<string, string> = { ':path': '/p' };
      for (const [n, v] of HEADERS) headers[n.toLowerCase()] = v;
      const req = session.request(headers);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        session.close();
        resolve(JSON.parse(body) as Env);
      });
      req.on('error', reject);
      req.end();
    });
    expectHttpRules(env, 'HTTP/2');
  });

  it('FastCGI: an HTTP_PROXY param never reaches the environ, alone or repeated; the other HTTP_ params do', async () => {
    const c = await FcgiClient.connect({ port: fcgi.port });
    try {
      const params = [...Object.entries(cgiParams('GET', '/p')), ['HTTP_PROXY', 'http://203.0.113.66:3128'], ['HTTP_X_CUSTOM_ID', 'kept'], ['HTTP_PROXY', 'http://203.0.113.67:3128']] as [string, string][];
      const r = await c.request({ params });
      expect(r.status).to.equal(200);
      const env = JSON.parse(r.body.toString()) as Env;
      expect(env).to.not.have.property('HTTP_PROXY');
      expect(env.HTTP_X_CUSTOM_ID).to.equal('kept');
    } finally {
      c.socket.destroy();
    }
  });

  it('SCGI: the same', async () => {
    const pairs = [...Object.entries(nginxVars('GET', '/p')), ['HTTP_PROXY', 'http://203.0.113.66:3128'], ['HTTP_X_CUSTOM_ID', 'kept'], ['HTTP_PROXY', 'http://203.0.113.67:3128']] as [string, string][];
    const r = parseResponse(await sendScgi(scgi.port, encodeScgiHead(0, pairs)));
    expect(r.status).to.equal(200);
    const env = JSON.parse(r.body.toString()) as Env;
    expect(env).to.not.have.property('HTTP_PROXY');
    expect(env.HTTP_X_CUSTOM_ID).to.equal('kept');
  });

  it('CGI: HTTP_PROXY from the web server is in neither the environ nor process.env nor a child process', async () => {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GATEWAY_INTERFACE: 'CGI/1.1',
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '/cgi-bin/app.cgi',
      PATH_INFO: '/proxy',
      QUERY_STRING: '',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'localhost',
      HTTP_PROXY: 'http://203.0.113.66:3128',
      HTTP_X_CUSTOM_ID: 'kept',
      TSGI_APP: ROOT + 'dist/test/support/cgi-apps.js',
    };
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(ROOT + 'examples/cgi/app.cgi', [], { env, stdio: ['ignore', 'pipe', 'ignore'] });
      let text = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('the CGI program did not exit within 20 s'));
      }, 20_000);
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.on('error', reject);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
    });
    const body = out.slice(out.indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).to.deep.equal({ environ: '<absent>', processEnv: '<absent>', child: '<absent>' });
  });
});
