/**
 * The built-in server's file path (adapters/http/send-file.ts) reuses its read buffers: these tests check
 * that reuse never lets one response's bytes into another's. Clients that stop reading keep their buffers
 * in flight while other requests take buffers from the same free list; every body must still be byte-exact.
 * A file that shrinks while it is being sent cuts the connection (the Content-Length already sent is a lie).
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { lint } from '../../app-api/lint.js';
import type { App } from '../../app-api/types.js';
import { staticDir } from '../../app-api/tools/staticdir.js';
import { startHttpServer, type HttpServer } from '../../adapters/http/server.js';
import { InlineDispatcher } from '../../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../../gateway/core/log.js';
import { sendRequest } from '../support/http-client.js';

const MIB = 1024 * 1024;

/** A file whose every 4-byte word says which file and offset it is, so a misplaced chunk cannot pass. */
function pattern(tag: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) b.writeUInt32LE((tag << 28) ^ i, i);
  return b;
}

/** A raw connection that sends one GET and does not read until `resume()`; resolves the whole raw reply at close. */
function pausedGet(port: number, p: string): { resume(): void; headBytes(): Promise<void>; done: Promise<Buffer> } {
  const sock = net.connect(port, '127.0.0.1', () => sock.write(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
  const parts: Buffer[] = [];
  let gotFirst: () => void = () => {};
  const first = new Promise<void>((r) => (gotFirst = r));
  sock.once('data', (d: Buffer) => {
    parts.push(d);
    sock.pause();
    gotFirst();
    sock.on('data', (more: Buffer) => parts.push(more));
  });
  const done = new Promise<Buffer>((resolve, reject) => {
    sock.on('close', () => resolve(Buffer.concat(parts)));
    sock.on('error', reject);
  });
  return { resume: () => sock.resume(), headBytes: () => first, done };
}

function splitReply(raw: Buffer): { head: string; body: Buffer } {
  const at = raw.indexOf('\r\n\r\n');
  return { head: raw.subarray(0, at).toString('latin1'), body: raw.subarray(at + 4) };
}

describe('tools: the built-in server sends files from reused buffers without mixing responses', function () {
  this.timeout(60_000);
  let dir: string;
  let server: HttpServer;
  const a = pattern(1, 5 * MIB + 12);
  const b = pattern(2, MIB + 4);
  const big = pattern(3, 48 * MIB);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsgi-send-file-'));
    writeFileSync(path.join(dir, 'a.bin'), a);
    writeFileSync(path.join(dir, 'b.bin'), b);
    writeFileSync(path.join(dir, 'shrinks.bin'), big);
    const notFound: App = (_e, sr) => {
      sr('404 Not Found', [['Content-Type', 'text/plain']]);
      return ['nf'];
    };
    const log = new ErrorLog(new MemoryLog());
    server = await startHttpServer(new InlineDispatcher(lint(staticDir(notFound, { dir })), { log }), { host: '127.0.0.1', port: 0, log });
  });
  after(async () => {
    await server.close(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stalled readers of one file and 24 concurrent requests of two files: every body byte-exact', async () => {
    const stalled = [pausedGet(server.port, '/a.bin'), pausedGet(server.port, '/a.bin')];
    await Promise.all(stalled.map((s) => s.headBytes()));
    const many = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        sendRequest({ port: server.port }, { method: 'GET', path: i % 2 === 0 ? '/a.bin' : '/b.bin', headers: i % 3 === 0 ? [['Range', 'bytes=7-1048590']] : [] }),
      ),
    );
    many.forEach((r, i) => {
      const file = i % 2 === 0 ? a : b;
      const want = i % 3 === 0 ? file.subarray(7, 1048591) : file;
      expect(r.status, `request ${i}`).to.equal(i % 3 === 0 ? 206 : 200);
      expect(r.body.equals(want), `request ${i}: body byte-exact`).to.equal(true);
    });
    for (const s of stalled) s.resume();
    for (const raw of await Promise.all(stalled.map((s) => s.done))) {
      const { head, body } = splitReply(raw);
      expect(head).to.match(/^HTTP\/1\.1 200 /);
      expect(body.equals(a), 'the stalled reader gets its file byte-exact').to.equal(true);
    }
  });

  it('a file that shrinks while it is sent: the connection is cut short of the Content-Length, the server keeps serving', async () => {
    const s = pausedGet(server.port, '/shrinks.bin');
    await s.headBytes();
    // 48 MiB cannot all sit in the loopback socket buffers of a client that does not read: the server is
    // still reading the file when it shrinks.
    truncateSync(path.join(dir, 'shrinks.bin'), 0);
    s.resume();
    const { head, body } = splitReply(await s.done);
    expect(head).to.include(`Content-Length: ${big.length}`);
    expect(body.length).to.be.below(big.length);
    expect(body.equals(big.subarray(0, body.length)), 'what arrived is the start of the file').to.equal(true);
    const next = await sendRequest({ port: server.port }, { method: 'GET', path: '/b.bin' });
    expect(next.body.equals(b)).to.equal(true);
  });
});
