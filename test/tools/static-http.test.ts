/**
 * The zero-copy path on the built-in HTTP/1.1 server: a file body reaches Http1Sink.sendFile (counted by a
 * spy on the prototype), a 3 MiB file and a range arrive byte-exact, and a client that hangs up mid-file
 * leaves the server serving the next request.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { lint } from '../../app-api/lint.js';
import type { App } from '../../app-api/types.js';
import { staticDir } from '../../app-api/tools/staticdir.js';
import { startHttpServer, type HttpServer } from '../../adapters/http/server.js';
import { Http1Sink } from '../../adapters/http/sink.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../../gateway/core/log.js';
import { sendRequest } from '../support/http-client.js';

describe('tools: static files on the built-in server use the sink\'s sendFile', function () {
  this.timeout(30_000);
  let dir: string;
  let server: HttpServer;
  let calls = 0;
  const original = Http1Sink.prototype.sendFile;
  const big = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-static-http-'));
    writeFileSync(path.join(dir, 'big.bin'), big);
    Http1Sink.prototype.sendFile = function (this: Http1Sink, file) {
      calls++;
      return original.call(this, file);
    };
    const notFound: App = (_e, sr) => {
      sr('404 Not Found', [['Content-Type', 'text/plain']]);
      return ['nf'];
    };
    const log = new ErrorLog(new MemoryLog());
    server = await startHttpServer(new InlineDispatcher(lint(staticDir(notFound, { dir })), { log }), { host: '127.0.0.1', port: 0, log });
  });
  after(async () => {
    Http1Sink.prototype.sendFile = original;
    await server.close(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a whole file and a range arrive byte-exact, both through sendFile', async () => {
    const whole = await sendRequest({ port: server.port }, { method: 'GET', path: '/big.bin' });
    expect(whole.headers['content-length']).to.equal(String(big.length));
    expect(whole.headers['transfer-encoding']).to.equal(undefined);
    expect(whole.body.equals(big)).to.equal(true);
    const part = await sendRequest({ port: server.port }, { method: 'GET', path: '/big.bin', headers: [['Range', 'bytes=1000000-2000003']] });
    expect(part.status).to.equal(206);
    expect(part.body.equals(big.subarray(1_000_000, 2_000_004))).to.equal(true);
    expect(calls).to.equal(2);
  });

  it('a client that hangs up mid-file does not hurt the server', async () => {
    await new Promise<void>((resolve, reject) => {
      const sock = net.connect(server.port, '127.0.0.1', () => sock.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n'));
      let got = 0;
      sock.on('data', (d) => {
        got += d.length;
        if (got > 100_000) {
          sock.destroy();
          resolve();
        }
      });
      sock.on('error', reject);
    });
    const next = await sendRequest({ port: server.port }, { method: 'GET', path: '/big.bin', headers: [['Range', 'bytes=0-9']] });
    expect(next.body.equals(big.subarray(0, 10))).to.equal(true);
  });
});
