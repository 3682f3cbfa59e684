/**
 * A 100 MB upload to an app that is not reading yet is held back, not buffered, on every front and
 * concurrency mode the tsgi command runs: HTTP/1.1, FastCGI and SCGI; single, threadPool=2 (the main
 * thread reads the socket and hands chunks to a worker thread) and processPool=2 (worker processes); and
 * HTTP/2 (cleartext h2c), single and threadPool=2.
 *
 * The client writes until its writes stall (no 'drain' for a while) and then measures: the bytes the
 * server side took (kernel buffers on loopback hold a few MB) and the RSS of the server's processes
 * (primary and workers, from /proc) against the idle server. Then the app is let read and must get every
 * byte (sha256). RSS is measured at the stall and not as the peak of the run: after the app has read,
 * how much of the churned socket-read memory Node leaves resident differs by version (RELIABILITY.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { encodeScgiHead } from '../adapters/scgi/parse.js';
import { rssOf } from './support/child.js';
import { beginRecord, cgiParams, nameValues, parseCgiResponse, record, ROLE, streamRecords, T } from './support/fcgi-client.js';
import { nginxVars } from './support/scgi-client.js';

const CLI = fileURLToPath(new URL('../gateway/cli.js', import.meta.url));
const APP = fileURLToPath(new URL('./fixtures/upload-gate/app.js', import.meta.url));
const MiB = 1024 * 1024;
const SIZE = 100 * MiB;
/** What may be taken in (kernel buffers, one high-water mark per stage) or grow before the stall. */
const LIMIT = 48 * MiB;
const START_LINE = /serving .* on [a-z]+:\/\/[^:]+:(\d+)/;

/** `h2c`: the built-in server with http2 = true and no TLS (cleartext HTTP/2). */
type Front = 'http' | 'h2c' | 'fastcgi' | 'scgi';

/** The tsgi command in a child process, with a generated config. */
class Server {
  stderr = '';
  port = 0;
  private constructor(readonly proc: ChildProcess, readonly dir: string) {
    proc.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
  }
  static async start(front: Front, mode: Record<string, number>): Promise<Server> {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-upload-'));
    const cfg = path.join(dir, 'server.cfg');
    const proto = front === 'h2c' ? 'protocol = http\nhttp2 = true' : `protocol = ${front}`;
    const lines = ['[server]', 'socketPort = 0', proto, ...Object.entries(mode).map(([k, v]) => `${k} = ${v}`)];
    writeFileSync(cfg, lines.join('\n') + '\n');
    const s = new Server(spawn(process.execPath, [CLI, APP, '-C', cfg], { stdio: ['ignore', 'ignore', 'pipe'] }), dir);
    await new Promise<void>((resolve, reject) => {
      const onData = (): void => {
        const m = START_LINE.exec(s.stderr);
        if (m === null) return;
        s.proc.stderr!.off('data', onData);
        s.port = Number(m[1]);
        resolve();
      };
      s.proc.stderr!.on('data', onData);
      s.proc.once('exit', (code) => reject(new Error(`tsgi exited with ${code} before listening: ${s.stderr}`)));
    });
    return s;
  }
  /** RSS of the server and every process below it (processPool workers). */
  treeRss(): number {
    const pids = [this.proc.pid!];
    let total = 0;
    for (let i = 0; i < pids.length; i++) {
      try {
        total += rssOf(pids[i]);
        for (const tid of readdirSync(`/proc/${pids[i]}/task`)) {
          const kids = readFileSync(`/proc/${pids[i]}/task/${tid}/children`, 'utf8').trim();
          if (kids !== '') pids.push(...kids.split(' ').map(Number));
        }
      } catch {
        /* exited meanwhile */
      }
    }
    return total;
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      const kill = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(kill);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The bytes of a POST of `size` bytes to `target` in `front`'s framing: head, body chunk, end. */
function framing(front: Front, target: string, size: number): { head: Buffer; chunk(b: Buffer): Buffer; end: Buffer } {
  if (front === 'fastcgi') {
    const params = cgiParams('POST', target, { CONTENT_LENGTH: String(size), CONTENT_TYPE: 'application/octet-stream' });
    return {
      head: Buffer.concat([beginRecord(1, ROLE.RESPONDER, false), streamRecords(T.PARAMS, 1, nameValues(params))]),
      chunk: (b) => streamRecords(T.STDIN, 1, b, false),
      end: record(T.STDIN, 1),
    };
  }
  if (front === 'scgi') {
    return { head: encodeScgiHead(size, nginxVars('POST', target, { CONTENT_TYPE: 'application/octet-stream' })), chunk: (b) => b, end: Buffer.alloc(0) };
  }
  const head = `POST ${target} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`;
  return { head: Buffer.from(head, 'latin1'), chunk: (b) => b, end: Buffer.alloc(0) };
}

/** Status and body of what came back (the server closes the connection after the response). */
function parseAnswer(front: Front, data: Buffer): { status: number; body: string } {
  if (front === 'fastcgi') {
    const stdout: Buffer[] = [];
    for (let at = 0; at + 8 <= data.length; ) {
      const len = data.readUInt16BE(at + 4);
      if (data[at + 1] === T.STDOUT) stdout.push(data.subarray(at + 8, at + 8 + len));
      at += 8 + len + data[at + 6];
    }
    const r = parseCgiResponse(Buffer.concat(stdout));
    return { status: r.status, body: r.body.toString() };
  }
  const text = data.toString('latin1');
  const status = front === 'http' ? Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]) : Number(/^Status: (\d{3})/m.exec(text)?.[1] ?? 200);
  // Whatever the framing of the body (length or chunked), the answer is one JSON object.
  return { status, body: /\{.*\}/s.exec(text.slice(text.indexOf('\r\n\r\n')))?.[0] ?? '' };
}

interface Outcome {
  /** Bytes the client had handed on (to its socket or HTTP/2 session) when the writes stalled; -1 if they never did. */
  acceptedAtStall: number;
  rssGrowthAtStall: number;
  status: number;
  answer: { length: number; sha256: string };
  expected: { length: number; sha256: string };
}

/** The same over HTTP/2: one stream; its flow-control window and the session are what must push back. */
async function uploadH2ToParkedApp(server: Server): Promise<Outcome> {
  const gate = path.join(server.dir, 'go');
  const baseline = server.treeRss();
  const session = http2.connect(`http://127.0.0.1:${server.port}`);
  try {
    const stream = session.request({ ':method': 'POST', ':path': `/hold?gate=${encodeURIComponent(gate)}`, 'content-type': 'application/octet-stream', 'content-length': String(SIZE) });
    const got: Buffer[] = [];
    let status = 0;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => got.push(c));
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    const drainOr = (ms: number): Promise<boolean> =>
      new Promise((resolve) => {
        const onDrain = (): void => {
          clearTimeout(t);
          resolve(true);
        };
        const t = setTimeout(() => {
          stream.off('drain', onDrain);
          resolve(false);
        }, ms);
        stream.once('drain', onDrain);
      });
    const block = Buffer.alloc(MiB);
    for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
    const hash = createHash('sha256');
    let acceptedAtStall = -1;
    let rssGrowthAtStall = -1;
    let sent = 0;
    for (let n = 0; n < SIZE / MiB; n++) {
      hash.update(block);
      sent += block.length;
      if (stream.write(block)) continue;
      if (acceptedAtStall >= 0) {
        await drainOr(60_000);
        continue;
      }
      if (await drainOr(1000)) continue;
      acceptedAtStall = sent - stream.writableLength;
      rssGrowthAtStall = server.treeRss() - baseline;
      writeFileSync(gate, '');
      await drainOr(60_000);
    }
    writeFileSync(gate, '');
    stream.end();
    await ended;
    const body = Buffer.concat(got).toString();
    return { acceptedAtStall, rssGrowthAtStall, status, answer: JSON.parse(body || '{}'), expected: { length: SIZE, sha256: hash.digest('hex') } };
  } finally {
    session.close();
  }
}

/** Upload SIZE bytes to a parked app; at the stall measure, then open the gate and finish. */
async function uploadToParkedApp(server: Server, front: Front): Promise<Outcome> {
  if (front === 'h2c') return uploadH2ToParkedApp(server);
  const gate = path.join(server.dir, 'go');
  const baseline = server.treeRss();
  const frame = framing(front, `/hold?gate=${encodeURIComponent(gate)}`, SIZE);
  const socket = net.connect({ port: server.port, host: '127.0.0.1' });
  const got: Buffer[] = [];
  socket.on('data', (c: Buffer) => got.push(c));
  const closed = new Promise<void>((resolve, reject) => {
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const drainOr = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const onDrain = (): void => {
        clearTimeout(t);
        resolve(true);
      };
      const t = setTimeout(() => {
        socket.off('drain', onDrain);
        resolve(false);
      }, ms);
      socket.once('drain', onDrain);
    });

  const block = Buffer.alloc(MiB);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
  const hash = createHash('sha256');
  let acceptedAtStall = -1;
  let rssGrowthAtStall = -1;
  let sent = frame.head.length;
  socket.write(frame.head);
  for (let n = 0; n < SIZE / MiB; n++) {
    hash.update(block);
    const bytes = frame.chunk(block);
    sent += bytes.length;
    if (socket.write(bytes)) continue;
    if (acceptedAtStall >= 0) {
      await drainOr(60_000);
      continue;
    }
    // A server that keeps reading drains us again at once; one that holds back does not.
    if (await drainOr(1000)) continue;
    acceptedAtStall = sent - socket.writableLength;
    rssGrowthAtStall = server.treeRss() - baseline;
    writeFileSync(gate, '');
    await drainOr(60_000);
  }
  // Never stalled: open the gate so the test fails on the assertion, not on a hang.
  writeFileSync(gate, '');
  // No half-close: Node's HTTP server (httpAllowHalfOpen false) takes a client's FIN as giving up.
  socket.write(frame.end);
  await closed;
  const { status, body } = parseAnswer(front, Buffer.concat(got));
  return { acceptedAtStall, rssGrowthAtStall, status, answer: JSON.parse(body || '{}'), expected: { length: SIZE, sha256: hash.digest('hex') } };
}

const CASES: [Front, string, Record<string, number>][] = [
  ['http', 'single', {}],
  ['http', 'threadPool=2', { threadPool: 2 }],
  ['http', 'processPool=2', { processPool: 2 }],
  ['h2c', 'single', {}],
  ['h2c', 'threadPool=2', { threadPool: 2 }],
  ['fastcgi', 'single', {}],
  ['fastcgi', 'threadPool=2', { threadPool: 2 }],
  ['fastcgi', 'processPool=2', { processPool: 2 }],
  ['scgi', 'single', {}],
  ['scgi', 'threadPool=2', { threadPool: 2 }],
  ['scgi', 'processPool=2', { processPool: 2 }],
];

describe('a 100 MB upload to an app that is not reading yet is held back (tsgi command)', function () {
  this.timeout(120_000);
  for (const [front, modeName, mode] of CASES) {
    it(`${front}, ${modeName}: writes stall after < 48 MB, the server grows < 48 MB, every byte arrives`, async () => {
      const server = await Server.start(front, mode);
      try {
        const r = await uploadToParkedApp(server, front);
        // -1: never stalled. 0 is possible over HTTP/2: one flow-control window, still in the session's buffers.
        expect(r.acceptedAtStall, 'the upload stalled while the app was not reading').to.be.at.least(0);
        expect(r.acceptedAtStall, 'bytes taken before the stall').to.be.below(LIMIT);
        expect(r.rssGrowthAtStall, `server RSS growth at the stall: ${(r.rssGrowthAtStall / MiB).toFixed(1)} MB`).to.be.below(LIMIT);
        expect(r.status).to.equal(200);
        expect(r.answer).to.deep.equal(r.expected);
      } finally {
        await server.stop();
      }
    });
  }
});
