/**
 * `tsgi.client_gone`: an app that awaits the signal sees the client leave while it computes (not only when
 * it next writes), on every transport that can know and in every concurrency mode:
 *
 * - HTTP/1.1 (the client closes its socket), HTTP/2 (the client resets its stream: RST_STREAM, the session
 *   stays up), FastCGI (FCGI_ABORT_REQUEST, and the connection's close), SCGI (the connection's close):
 *   in-process servers, single mode;
 * - HTTP/1.1 through the tsgi command under threading, threadPool=2 (the main thread forwards it to the
 *   thread), forking and processPool=2 (the worker process owns the socket).
 *
 * The app (test/fixtures/overload/app.ts) creates a "started" file once it waits on the signal, and writes
 * the abort reason into a "mark" file when the signal fires; the test disconnects only after "started", so
 * the signal fires while the app is busy, and then waits (bounded) for "mark". CGI cannot know (the web
 * server holds the pipe) and puts no signal in the environ.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { encodeScgiHead } from '../adapters/scgi/parse.js';
import { startHttpServer, type HttpServer } from '../adapters/http/server.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { app } from './fixtures/overload/app.js';
import { CliServer, MODE_LINES } from './support/cli-server.js';
import { beginRecord, cgiParams, nameValues, record, ROLE, streamRecords, T } from './support/fcgi-client.js';
import { startFcgiHarness, type FcgiHarness } from './support/fcgi-harness.js';
import { nginxVars } from './support/scgi-client.js';
import { startScgiHarness, type ScgiHarness } from './support/scgi-harness.js';

const APP = fileURLToPath(new URL('./fixtures/overload/app.js', import.meta.url));

/** Wait (bounded: 600 x 50 ms) until `file` exists. */
async function waitFor(file: string, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (existsSync(file)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: ${file} did not appear within 30 s`);
}

let dir: string;
let n = 0;
/** A fresh pair of started/mark files and the query that names them. */
function files(): { started: string; mark: string; query: string } {
  n++;
  const started = path.join(dir, `started-${n}`);
  const mark = path.join(dir, `mark-${n}`);
  return { started, mark, query: `started=${encodeURIComponent(started)}&mark=${encodeURIComponent(mark)}` };
}

/** HTTP/1.1: send a GET, wait until the app waits, close the socket; resolve with the reason the app saw. */
async function http1Leaves(port: number): Promise<string> {
  const f = files();
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`GET /gone?${f.query} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  await waitFor(f.started, 'the app never started');
  socket.destroy();
  await waitFor(f.mark, 'the app never saw the client leave');
  return readFileSync(f.mark, 'utf8');
}

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tsgi-gone-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('tsgi.client_gone: the app sees the client leave while it computes (in-process fronts)', function () {
  this.timeout(60_000);

  describe('HTTP/1.1 and HTTP/2', () => {
    let server: HttpServer;
    let h2: HttpServer;
    before(async () => {
      const log = new ErrorLog(new MemoryLog());
      server = await startHttpServer(new InlineDispatcher(app, { log }), { port: 0, log });
      h2 = await startHttpServer(new InlineDispatcher(app, { log }), { port: 0, http2: true, log });
    });
    after(async () => {
      await server?.close(1000);
      await h2?.close(1000);
    });

    it('HTTP/1.1: the client closes its connection', async () => {
      expect(await http1Leaves(server.port)).to.match(/client closed|connection closed/);
    });

    it('HTTP/2 (h2c): the client resets the stream (RST_STREAM); the session stays up', async () => {
      const f = files();
      const session = http2.connect(`http://127.0.0.1:${h2.port}`);
      session.on('error', () => {});
      try {
        const req = session.request({ ':path': `/gone?${f.query}` });
        req.on('error', () => {});
        await waitFor(f.started, 'the app never started');
        req.close(http2.constants.NGHTTP2_CANCEL);
        await waitFor(f.mark, 'the app never saw the stream reset');
        expect(readFileSync(f.mark, 'utf8')).to.match(/HTTP\/2 stream closed/);
        expect(session.closed || session.destroyed).to.equal(false);
      } finally {
        session.destroy();
      }
    });
  });

  describe('FastCGI', () => {
    let h: FcgiHarness;
    before(async () => {
      h = await startFcgiHarness(app);
    });
    after(async () => {
      await h?.server.close(1000);
    });

    /** Begin a keep-conn request for /gone and wait until the app waits. */
    async function begin(): Promise<{ socket: net.Socket; mark: string }> {
      const f = files();
      const socket = net.connect(h.port, '127.0.0.1');
      socket.on('error', () => {});
      const params = cgiParams('GET', `/gone?${f.query}`, { SCRIPT_NAME: '', PATH_INFO: '/gone' });
      socket.write(Buffer.concat([beginRecord(1, ROLE.RESPONDER, true), streamRecords(T.PARAMS, 1, nameValues(params)), record(T.STDIN, 1)]));
      await waitFor(f.started, 'the app never started');
      return { socket, mark: f.mark };
    }

    it('FCGI_ABORT_REQUEST from the web server', async () => {
      const { socket, mark } = await begin();
      try {
        socket.write(record(T.ABORT_REQUEST, 1));
        await waitFor(mark, 'the app never saw FCGI_ABORT_REQUEST');
        expect(readFileSync(mark, 'utf8')).to.match(/FCGI_ABORT_REQUEST/);
      } finally {
        socket.destroy();
      }
    });

    it('the web server closes the connection', async () => {
      const { socket, mark } = await begin();
      socket.destroy();
      await waitFor(mark, 'the app never saw the connection close');
      expect(readFileSync(mark, 'utf8')).to.match(/closed the FastCGI connection/);
    });
  });

  describe('SCGI', () => {
    let h: ScgiHarness;
    before(async () => {
      h = await startScgiHarness(app);
    });
    after(async () => {
      await h?.server.close(1000);
    });

    it('the web server closes the connection', async () => {
      const f = files();
      const socket = net.connect(h.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write(encodeScgiHead(0, nginxVars('GET', `/gone?${f.query}`)));
      await waitFor(f.started, 'the app never started');
      socket.destroy();
      await waitFor(f.mark, 'the app never saw the connection close');
      expect(readFileSync(f.mark, 'utf8')).to.match(/SCGI connection/);
    });
  });
});

for (const mode of ['threading', 'threadPool', 'forking', 'processPool']) {
  describe(`tsgi.client_gone through the tsgi command (${mode}, HTTP/1.1)`, function () {
    this.timeout(120_000);
    let server: CliServer;
    before(async () => {
      server = await CliServer.start(APP, MODE_LINES[mode]);
    });
    after(async () => {
      await server?.stop();
    });

    it('the client closes its connection while the app waits: the app sees it', async () => {
      expect(await http1Leaves(server.port), server.stderr).to.match(/client closed|connection closed/);
    });
  });
}
