/**
 * The RFC 9110/9112 MUST-level refusals the parser leaves to tsgi, rule by rule and front by front:
 *
 * - the HTTP rules (adapters/http/request-rules.ts) as a table, and through the built-in server: 400/505
 *   with `Connection: close`, and the app never called;
 * - the Host rule on the gateway fronts (gateway/core/host.ts through cgiFromGateway): two Host values a
 *   web server joined into one HTTP_HOST ("a, b"), or sent as two params, and an invalid Host are a 400 on
 *   FastCGI, SCGI and CGI, and the connection goes on.
 *
 * The raw-request corpus (test/rfc-request-corpus.test.ts) covers what llhttp refuses itself.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { checkHttpRequest } from '../adapters/http/request-rules.js';
import { toNode } from '../adapters/node/to-node.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import type { App } from '../app-api/types.js';
import type { HttpRequestHead } from '../gateway/core/environ.js';
import { isValidHost } from '../gateway/core/host.js';
import { lint } from '../app-api/lint.js';
import { encodeScgiHead } from '../adapters/scgi/parse.js';
import { cgiParams, FcgiClient, nameValues, beginRecord, streamRecords, T } from './support/fcgi-client.js';
import { startFcgiHarness, type FcgiHarness } from './support/fcgi-harness.js';
import { sendRaw } from './support/request-corpus.js';
import { nginxVars, parseResponse, scgiRequest, sendRaw as sendScgi } from './support/scgi-client.js';
import { startScgiHarness, type ScgiHarness } from './support/scgi-harness.js';
import { TestServers } from './support/servers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function head(method: string, url: string, httpVersion: string, headers: Array<[string, string]>): HttpRequestHead {
  return { method, url, httpVersion, rawHeaders: headers.flat(), scheme: 'http' };
}

/** Answers 200 with HTTP_HOST; counts its calls. */
function hostApp(): { app: App; calls: () => number } {
  let calls = 0;
  const app: App = (environ, startResponse) => {
    calls++;
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [String(environ.HTTP_HOST ?? '')];
  };
  return { app, calls: () => calls };
}

describe('RFC 9110/9112 refusals the parser leaves to tsgi', function () {
  this.timeout(60_000);

  describe('the Host value rule (gateway/core/host.ts)', () => {
    it('accepts reg-names, IPv4, IPv6 literals, ports and the empty value', () => {
      for (const ok of ['example.test', 'example.test:8080', '127.0.0.1:80', '[::1]', '[::1]:8080', 'my_host.example', 'xn--caf-dma.example', '', 'a%41.test']) {
        expect(isValidHost(ok), ok).to.equal(true);
      }
    });
    it('refuses joined values, paths, userinfo, spaces, controls and bad brackets', () => {
      for (const bad of ['a, b', 'example.test example.org', 'example.test/admin', 'user@example.test', 'example.test:80:80', 'ex\tample', 'a\0b', '[::1', '::1', 'caf\u00e9.example', 'a%4.test', 'example.test:8o']) {
        expect(isValidHost(bad), JSON.stringify(bad)).to.equal(false);
      }
    });
  });

  describe('the HTTP rules (adapters/http/request-rules.ts)', () => {
    const refused: Array<[string, HttpRequestHead, boolean, number, RegExp]> = [
      ['HTTP/2.0 on an HTTP/1 connection', head('GET', '/', '2.0', [['Host', 'a']]), false, 505, /not supported on an HTTP\/1 connection/],
      ['HTTP/0.9', head('GET', '/', '0.9', []), false, 505, /HTTP\/0\.9/],
      ['asterisk-form GET', head('GET', '*', '1.1', [['Host', 'a']]), false, 400, /only for OPTIONS/],
      ['asterisk-form over HTTP/2 too', head('DELETE', '*', '2.0', [[':authority', 'a']]), true, 400, /only for OPTIONS/],
      ['two Host lines', head('GET', '/', '1.1', [['Host', 'a'], ['host', 'a']]), false, 400, /more than one Host/],
      ['an invalid Host', head('GET', '/', '1.1', [['Host', 'a b']]), false, 400, /not a valid host/],
      ['two different Content-Type', head('POST', '/', '1.1', [['Host', 'a'], ['Content-Type', 'a/b'], ['content-type', 'c/d']]), false, 400, /two different Content-Type/],
      ['Transfer-Encoding in HTTP/1.0', head('POST', '/', '1.0', [['Transfer-Encoding', 'chunked']]), false, 400, /HTTP\/1\.0 request/],
    ];
    for (const [name, h, http2, status, message] of refused) {
      it(`refuses ${name} with ${status}`, () => {
        let err: unknown;
        try {
          checkHttpRequest(h, http2);
        } catch (e) {
          err = e;
        }
        expect(err, name).to.have.property('code', 'TSGI_ERR_BAD_REQUEST');
        expect(err).to.have.property('status', status);
        expect((err as Error).message).to.match(message);
      });
    }
    it('lets valid heads through: OPTIONS *, HTTP/1.0 without Host, same Content-Type twice, HTTP/2 with :authority', () => {
      checkHttpRequest(head('OPTIONS', '*', '1.1', [['Host', 'a']]), false);
      checkHttpRequest(head('GET', '/', '1.0', []), false);
      checkHttpRequest(head('POST', '/', '1.1', [['Host', 'a'], ['Content-Type', 'a/b'], ['Content-Type', 'a/b']]), false);
      checkHttpRequest(head('GET', '/', '2.0', [[':authority', 'a'], [':path', '/']]), true);
      checkHttpRequest(head('POST', '/', '1.1', [['Host', 'a'], ['Transfer-Encoding', 'chunked']]), false);
    });
  });

  describe('built-in HTTP server: the answer closes the connection and the app never runs', () => {
    const servers = new TestServers();
    after(() => servers.closeAll());
    const cases: Array<[string, string, number]> = [
      ['two Host lines', 'GET /p HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
      ['two different Content-Type', 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Type: a/b\r\nContent-Type: c/d\r\nContent-Length: 2\r\n\r\nhi', 400],
      ['Transfer-Encoding in HTTP/1.0 (a keep-alive 1.0 client)', 'POST /p HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /second HTTP/1.0\r\n\r\n', 400],
      ['GET *', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', 400],
      ['HTTP/2.0 in an HTTP/1 request line', 'GET /p HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ];
    for (const [name, raw, status] of cases) {
      it(`${name}: ${status}, Connection: close, app not called`, async () => {
        const { app, calls } = hostApp();
        const server = await servers.start(lint(app));
        const x = await sendRaw(server.port, Buffer.from(raw, 'latin1'));
        expect(x.closed, 'closed by the server').to.equal(true);
        expect(x.responses.map((r) => r.status)).to.deep.equal([status]);
        expect(x.responses[0].headers).to.deep.include(['connection', 'close']);
        expect(calls()).to.equal(0);
        expect(servers.logs.text).to.include('TSGI_ERR_BAD_REQUEST');
      });
    }
  });

  describe('toNode (a tsgi app inside a node:http server): the same rules', () => {
    let server: http.Server | undefined;
    after(() => new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve()))));

    it('two Host lines: 400, Connection: close, the app never called, the request behind it not served', async () => {
      const { app, calls } = hostApp();
      const memory = new MemoryLog();
      server = http.createServer(toNode(lint(app), { log: new ErrorLog(memory) }));
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const x = await sendRaw(port, Buffer.from('GET /p HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'));
      expect(x.closed).to.equal(true);
      expect(x.responses.map((r) => r.status)).to.deep.equal([400]);
      expect(x.responses[0].headers).to.deep.include(['connection', 'close']);
      expect(calls()).to.equal(0);
      expect(memory.text).to.include('more than one Host header');
    });
  });

  describe('FastCGI: HTTP_HOST', () => {
    let h: FcgiHarness;
    const { app, calls } = hostApp();
    before(async () => {
      h = await startFcgiHarness(app);
    });
    after(() => h.server.close(500));

    it('two HTTP_HOST params (one per Host line) are joined and refused with 400; an invalid one too; the connection goes on', async () => {
      const c = await FcgiClient.connect({ port: h.port });
      try {
        const base = Object.entries(cgiParams('GET', '/p')).filter(([k]) => k !== 'HTTP_HOST') as [string, string][];
        const two = await c.request({ id: 1, params: [...base, ['HTTP_HOST', 'example.test'], ['HTTP_HOST', 'evil.example']] });
        expect(two.status).to.equal(400);
        const bad = await c.request({ id: 2, params: [...base, ['HTTP_HOST', 'example.test/admin']] });
        expect(bad.status).to.equal(400);
        const before = calls();
        const ok = await c.request({ id: 3, params: [...base, ['HTTP_HOST', 'example.test:8080']] });
        expect(ok.status).to.equal(200);
        expect(ok.body.toString()).to.equal('example.test:8080');
        expect(calls()).to.equal(before + 1);
        expect(h.linesWith('is not one valid host')).to.have.length(2);
      } finally {
        c.socket.destroy();
      }
    });

    it('the refusal comes before the app: a refused request never calls it', async () => {
      const before = calls();
      const c = await FcgiClient.connect({ port: h.port });
      try {
        const res = c.response(1);
        await c.write(Buffer.concat([beginRecord(1), streamRecords(T.PARAMS, 1, nameValues({ ...cgiParams('GET', '/p'), HTTP_HOST: 'a, b' })), streamRecords(T.STDIN, 1, Buffer.alloc(0))]));
        expect((await res).status).to.equal(400);
        expect(calls()).to.equal(before);
      } finally {
        c.socket.destroy();
      }
    });
  });

  describe('SCGI: HTTP_HOST', () => {
    let h: ScgiHarness;
    before(async () => {
      h = await startScgiHarness(hostApp().app);
    });
    after(() => h.server.close(500));

    it('two HTTP_HOST headers (joined) and an invalid one are refused with 400; a valid one is served', async () => {
      const vars = nginxVars('GET', '/p');
      delete (vars as Record<string, string>).HTTP_HOST;
      const pairs = Object.entries(vars);
      // Pairs, not an object: the same name twice, as nginx before 1.23 sends repeated header lines.
      const two = parseResponse(await sendScgi(h.port, encodeScgiHead(0, [...pairs, ['HTTP_HOST', 'example.test'], ['HTTP_HOST', 'evil.example']])));
      expect(two.status).to.equal(400);
      const bad = await scgiRequest(h.port, { vars: { ...vars, HTTP_HOST: 'user@example.test' } });
      expect(bad.status).to.equal(400);
      const ok = await scgiRequest(h.port, { vars: { ...vars, HTTP_HOST: '[::1]:8080' } });
      expect(ok.status).to.equal(200);
      expect(ok.body.toString()).to.equal('[::1]:8080');
    });
  });

  describe('CGI: HTTP_HOST', () => {
    function runCgi(host: string): Promise<{ status: string; stderr: string }> {
      return new Promise((resolve, reject) => {
        const env = {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          GATEWAY_INTERFACE: 'CGI/1.1',
          REQUEST_METHOD: 'GET',
          SCRIPT_NAME: '/cgi-bin/app.cgi',
          PATH_INFO: '/status',
          QUERY_STRING: '',
          SERVER_NAME: 'localhost',
          SERVER_PORT: '80',
          SERVER_PROTOCOL: 'HTTP/1.1',
          REMOTE_ADDR: '127.0.0.1',
          HTTP_HOST: host,
          TSGI_APP: ROOT + 'dist/test/support/cgi-apps.js',
        };
        const child = spawn(ROOT + 'examples/cgi/app.cgi', [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error('the CGI program did not exit within 20 s'));
        }, 20_000);
        child.stdout.on('data', (c: Buffer) => (out += c.toString('latin1')));
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('error', reject);
        child.on('close', () => {
          clearTimeout(timer);
          resolve({ status: /^Status: ([^\r]*)\r\n/.exec(out)?.[1] ?? `no Status in ${JSON.stringify(out.slice(0, 100))}`, stderr: err });
        });
      });
    }

    it('a web server that joined two Host lines ("a, b") gets 400; a valid Host is served', async () => {
      const joined = await runCgi('example.test, evil.example');
      expect(joined.status).to.equal('400 Bad Request');
      expect(joined.stderr).to.include('is not one valid host');
      const ok = await runCgi('example.test');
      expect(ok.status).to.equal('201 Created');
    });
  });
});
