/**
 * `npm run bench:half-open`: the FastCGI server's memory under requests that never finish. The tsgi CLI
 * (protocol = fastcgi, single mode, limitParamsSize 64k) is started as a user runs it; then 1,000
 * connections each begin 2 requests (2,000 in all) with FCGI_BEGIN_REQUEST and a part of their FCGI_PARAMS,
 * and never send the rest (the FastCGI front accepts at most 1,024 connections, 128 requests each). The server's RSS (VmRSS from /proc) is read before, after the partial params
 * are in, and once more after 2 more requests on each connection whose params go past limitParamsSize (dropped as they come,
 * answered 431 only at an end that never comes). Nothing here is timed: it prints figures.
 *
 * Bounded: 1,000 sockets, about 200 MB sent in all on loopback, a 120 s deadline; the server and every
 * socket are closed at the end. HALF_OPEN_CONNS / HALF_OPEN_PARAMS_KIB change the shape.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONNS = Number(process.env.HALF_OPEN_CONNS ?? '1000');
const PER_CONN = 2;
const PARTIAL_KIB = Number(process.env.HALF_OPEN_PARAMS_KIB ?? '16');
const LIMIT_KIB = 64;
const OVER_KIB = LIMIT_KIB + 8;
const DEADLINE = Date.now() + 120_000;

const root = fileURLToPath(new URL('../../', import.meta.url));

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error('no VmRSS in /proc: this benchmark needs Linux');
  return Number(m[1]) / 1024;
}

function rec(type: number, id: number, content: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 1;
  h[1] = type;
  h.writeUInt16BE(id, 2);
  h.writeUInt16BE(content.length, 4);
  return Buffer.concat([h, content]);
}

/** BEGIN_REQUEST (keep-conn) + `kib` KiB of FCGI_PARAMS for request `id`, without the empty end record. */
function halfRequest(id: number, kib: number): Buffer {
  const begin = rec(1, id, Buffer.from([0, 1, 1, 0, 0, 0, 0, 0]));
  // One name-value pair announcing a value longer than what is sent: a well-formed stream cut short.
  const name = Buffer.from('HTTP_X_PAD');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(((kib * 1024 * 4) | 0x80000000) >>> 0);
  const params: Buffer[] = [rec(4, id, Buffer.concat([Buffer.from([name.length]), len, name]))];
  for (let sent = 0; sent < kib * 1024; sent += 8192) params.push(rec(4, id, Buffer.alloc(Math.min(8192, kib * 1024 - sent), 0x61)));
  return Buffer.concat([begin, ...params]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-half-open-'));
  const cfg = join(dir, 'tsgi.cfg');
  writeFileSync(cfg, `[server]\nprotocol = fastcgi\nsocketPort = 0\nlimitParamsSize = ${LIMIT_KIB}k\n`);
  // The server must not outlive this script, whatever ends it.
  const server = spawn(process.execPath, [join(root, 'dist/gateway/cli.js'), join(root, 'dist/examples/hello/app.js'), '-C', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  const sockets: net.Socket[] = [];
  const killServer = (): void => {
    if (server.exitCode === null) server.kill('SIGKILL');
  };
  process.once('exit', killServer);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      const onData = (d: Buffer): void => {
        text += d.toString();
        const m = /on fcgi:\/\/127\.0\.0\.1:(\d+)/.exec(text);
        if (m !== null) resolve(Number(m[1]));
      };
      server.stdout.on('data', onData);
      server.stderr.on('data', onData);
      server.once('exit', (code) => reject(new Error(`the server exited (${code}): ${text}`)));
      setTimeout(() => reject(new Error(`no start line within 20 s: ${text}`)), 20_000).unref();
    });
    await sleep(500);
    const pid = server.pid!;
    const base = rssMiB(pid);

    const open = async (kib: number, firstId: number): Promise<void> => {
      const bytes = Buffer.concat(Array.from({ length: PER_CONN }, (_, k) => halfRequest(firstId + k, kib)));
      for (let i = 0; i < CONNS; i += 50) {
        if (Date.now() > DEADLINE) throw new Error('deadline passed while opening connections');
        await Promise.all(
          Array.from({ length: Math.min(50, CONNS - i) }, () =>
            new Promise<void>((resolve, reject) => {
              const s = net.connect(port, '127.0.0.1', () => s.write(bytes, () => resolve()));
              s.on('error', reject);
              sockets.push(s);
            }),
          ),
        );
      }
    };

    await open(PARTIAL_KIB, 1);
    await sleep(2000);
    const held = rssMiB(pid);
    const alive = sockets.filter((s) => !s.destroyed).length;

    // On the same connections (the server accepts at most 1,024), 2 more requests each, past the limit.
    const more = Buffer.concat(Array.from({ length: PER_CONN }, (_, k) => halfRequest(PER_CONN + 1 + k, OVER_KIB)));
    for (let i = 0; i < sockets.length; i += 50) {
      if (Date.now() > DEADLINE) throw new Error('deadline passed while sending');
      await Promise.all(sockets.slice(i, i + 50).map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.write(more, () => resolve())))));
    }
    await sleep(2000);
    const over = rssMiB(pid);
    const alive2 = sockets.filter((s) => !s.destroyed).length;
    const requests = CONNS * PER_CONN;

    console.log(`FastCGI half-open requests against the tsgi CLI (single mode, limitParamsSize ${LIMIT_KIB}k), Node ${process.version}`);
    console.log(`  RSS at start:                                   ${base.toFixed(1)} MiB`);
    console.log(`  + ${requests} requests holding ${PARTIAL_KIB} KiB of params each:  ${held.toFixed(1)} MiB (+${(held - base).toFixed(1)} MiB, ${(((held - base) * 1024) / requests).toFixed(1)} KiB/request; ${alive} connections open)`);
    console.log(`  + ${requests} more on them sending ${OVER_KIB} KiB each (over the limit, dropped): ${over.toFixed(1)} MiB (+${(over - held).toFixed(1)} MiB for ${((requests * OVER_KIB) / 1024).toFixed(0)} MiB sent; ${alive2} connections open)`);
  } finally {
    for (const s of sockets) s.destroy();
    server.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      if (server.exitCode !== null) return resolve();
      const t = setTimeout(() => (server.kill('SIGKILL'), resolve()), 10_000);
      server.once('exit', () => (clearTimeout(t), resolve()));
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
