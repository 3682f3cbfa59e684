/**
 * Response splitting: a status or header with CR, LF or NUL, a header name that is no HTTP token, a value
 * above U+00FF. The gateway core refuses each one in startResponse (app-api/headers.ts, one rule for every
 * front): the app gets a TsgiError (TSGI_ERR_BAD_HEADER / TSGI_ERR_BAD_STATUS), the client a 500, and no
 * byte of the bad header reaches the wire. Proved on every transport with a raw client reading the bytes
 * the server wrote: HTTP/1.1, HTTP/2 (h2c), FastCGI, SCGI, and CGI (the CGI program spawned).
 *
 * And a status without a reason phrase ("200"): the lint refuses it, the server sends the standard phrase
 * (`200 OK`, `299 Unknown`) on every transport, so they all agree.
 */
import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { lint, LintError } from '../app-api/lint.js';
import { startFastcgiServer, type FastcgiServer } from '../adapters/fastcgi/server.js';
import { startHttpServer, type HttpServer } from '../adapters/http/server.js';
import { encodeScgiHead } from '../adapters/scgi/parse.js';
import { startScgiServer, type ScgiServer } from '../adapters/scgi/server.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { app, BAD, caught, MARK, NO_REASON } from './fixtures/splitting/app.js';
import { cgiParams, FcgiClient } from './support/fcgi-client.js';
import { sendRaw as sendHttp } from './support/request-corpus.js';
import { sendRaw as sendScgi } from './support/scgi-client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CGI_SCRIPT = ROOT + 'examples/cgi/app.cgi';
const CGI_APP = ROOT + 'dist/test/fixtures/splitting/app.js';

/** What one transport answered: the status line (as `NNN Reason`, or `NNN` for HTTP/2), and every byte. */
interface Answer {
  status: string;
  wire: Buffer;
  /** What the server logged about the request (CGI: its stderr). */
  log: string;
}

type Transport = (path: string) => Promise<Answer>;

/** Split `Status: NNN Reason\r\n...` (FastCGI, SCGI, CGI) into the status. */
function cgiStatus(head: Buffer): string {
  const m = /^Status: ([^\r\n]*)\r\n/.exec(head.toString('latin1'));
  if (m === null) throw new Error(`no Status line in ${JSON.stringify(head.toString('latin1').slice(0, 200))}`);
  return m[1];
}

function runCgi(path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GATEWAY_INTERFACE: 'CGI/1.1',
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '/cgi-bin/app.cgi',
      PATH_INFO: path,
      QUERY_STRING: '',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'localhost',
      TSGI_APP: CGI_APP,
    };
    const child = spawn(CGI_SCRIPT, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the CGI program did not exit within 20 s'));
    }, 20_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const wire = Buffer.concat(out);
      resolve({ status: cgiStatus(wire), wire, log: Buffer.concat(err).toString() });
    });
  });
}

describe('response splitting: refused before any byte is written, on every transport', function () {
  this.timeout(60_000);
  const memory = new MemoryLog();
  const log = new ErrorLog(memory);
  let h1: HttpServer;
  let h2: HttpServer;
  let fcgi: FastcgiServer;
  let scgi: ScgiServer;
  const transports: Record<string, Transport> = {};

  before(async () => {
    const dispatcher = new InlineDispatcher(app, { log });
    h1 = await startHttpServer(dispatcher, { port: 0, log });
    h2 = await startHttpServer(dispatcher, { port: 0, log, http2: true });
    fcgi = await startFastcgiServer(dispatcher, { port: 0, log });
    scgi = await startScgiServer(dispatcher, { port: 0, log });
    const since = (): (() => string) => {
      const start = memory.text.length;
      return () => memory.text.slice(start);
    };

    transports['HTTP/1.1'] = async (path) => {
      const logged = since();
      const x = await sendHttp(h1.port, Buffer.from(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`, 'latin1'));
      // The status line as written (`HTTP/1.1 200 OK`), off the raw bytes.
      const m = /^HTTP\/1\.1 ([^\r\n]*)\r\n/.exec(x.raw.toString('latin1'));
      if (m === null) throw new Error(`HTTP/1.1 ${path}: no status line in ${JSON.stringify(x.raw.toString('latin1').slice(0, 200))}`);
      return { status: m[1], wire: x.raw, log: logged() };
    };
    transports['HTTP/2'] = (path) =>
      new Promise((resolve, reject) => {
        const logged = since();
        const session = http2.connect(h2.url);
        session.on('error', reject);
        const req = session.request({ ':path': path });
        const chunks: Buffer[] = [];
        let head = '';
        let status = '';
        req.on('response', (headers) => {
          status = String(headers[':status']);
          head = JSON.stringify(headers);
        });
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          session.close();
          resolve({ status, wire: Buffer.concat([Buffer.from(head, 'latin1'), ...chunks]), log: logged() });
        });
        req.on('error', reject);
        req.end();
      });
    transports.FastCGI = async (path) => {
      const logged = since();
      const client = await FcgiClient.connect({ port: fcgi.port });
      try {
        const r = await client.request({ params: cgiParams('GET', path, { PATH_INFO: path, SCRIPT_NAME: '' }) });
        return { status: cgiStatus(r.stdout), wire: Buffer.concat(client.received.map((rec) => rec.content)), log: logged() };
      } finally {
        client.socket.destroy();
      }
    };
    transports.SCGI = async (path) => {
      const logged = since();
      const r = await sendScgi(scgi.port, encodeScgiHead(0, { REQUEST_METHOD: 'GET', REQUEST_URI: path, PATH_INFO: path, SCRIPT_NAME: '', QUERY_STRING: '', SERVER_PROTOCOL: 'HTTP/1.1', HTTP_HOST: 'localhost' }));
      return { status: cgiStatus(r.data), wire: r.data, log: logged() };
    };
    transports.CGI = runCgi;
  });

  after(async () => {
    await Promise.all([h1?.close(500), h2?.close(500), fcgi?.close(500), scgi?.close(500)]);
  });

  it('lint() refuses every one of these apps too (the server refuses them without it)', () => {
    for (const path of [...Object.keys(BAD), ...Object.keys(NO_REASON)]) {
      const linted = lint(app, { onViolation: () => {} });
      const environ = { REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: path, QUERY_STRING: '', SERVER_NAME: 'localhost', SERVER_PORT: '80', SERVER_PROTOCOL: 'HTTP/1.1', 'tsgi.version': [1, 0], 'tsgi.url_scheme': 'http', 'tsgi.input': { read: async () => Buffer.alloc(0), readline: async () => Buffer.alloc(0), readSync: () => Buffer.alloc(0), [Symbol.asyncIterator]: async function* () {} }, 'tsgi.errors': { write() {}, flush() {} }, 'tsgi.multithread': false, 'tsgi.multiprocess': false, 'tsgi.run_once': false, 'tsgi.input_terminated': true, 'tsgi.app_config': {} };
      expect(() => linted(environ as never, () => () => undefined), path).to.throw(LintError);
    }
  });

  for (const name of ['HTTP/1.1', 'HTTP/2', 'FastCGI', 'SCGI', 'CGI']) {
    describe(name, () => {
      for (const [path, [status]] of Object.entries(BAD)) {
        it(`${path}: 500, the app got a TsgiError, nothing of the bad ${status.startsWith('200 OK') && status !== '200 OK' ? 'status' : 'header'} on the wire`, async () => {
          const before = caught.length;
          const a = await transports[name](path);
          expect(a.status.slice(0, 3), `${name} ${path} status`).to.equal('500');
          expect(a.wire.toString('latin1'), `${name} ${path}: the marker never reaches the wire`).to.not.include(MARK);
          expect(a.wire.toString('latin1').toLowerCase(), `${name} ${path}: no X-Bad header`).to.not.include('x-bad');
          const code = path.endsWith('-status') ? 'TSGI_ERR_BAD_STATUS' : 'TSGI_ERR_BAD_HEADER';
          if (name === 'CGI') expect(a.log, `${name} ${path}: the app caught ${code}`).to.include(`caught ${code}`);
          else expect(caught.slice(before), `${name} ${path}: the app caught ${code}`).to.deep.equal([code]);
          expect(a.log, `${name} ${path}: logged with its code`).to.include(code);
        });
      }
      for (const [path, [status, line]] of Object.entries(NO_REASON)) {
        it(`${path}: status ${JSON.stringify(status)} goes out as ${name === 'HTTP/2' ? line.slice(0, 3) + ' (HTTP/2 has no reason phrase)' : JSON.stringify(line)}`, async () => {
          const a = await transports[name](path);
          expect(a.status).to.equal(name === 'HTTP/2' ? line.slice(0, 3) : line);
        });
      }
    });
  }
});

