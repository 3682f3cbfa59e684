/**
 * What one message between a pool thread and the main thread costs, by shape: a worker thread posts
 * 100,000 messages (in bursts of 16 per turn, as a thread going through a batch does) and the process CPU
 * per message is printed. Shows why gateway/threads/channel.ts sends heads, small bodies and CGI variables
 * as strings: the structured clone costs per property, per nested array and per ArrayBuffer.
 *
 * Also the alternative to one message per response: a SharedArrayBuffer ring the thread writes responses
 * into, with a doorbell (one empty postMessage, or Atomics.notify to an Atomics.waitAsync on the main
 * thread) only when the main thread has emptied the ring and sleeps. Each is run in bursts of 16 responses
 * per turn (a batch) and of 1 per turn (lone requests), since a doorbell per response is the worst case.
 *
 *     npm run build && node dist/bench/pool-messages.js        # ~15 s
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { bodyToWire, encodeCgi, encodeHead } from '../gateway/threads/channel.js';

const N = Number(process.env.BENCH_MESSAGES ?? '100000');
const BODY = Buffer.from('Hello, world!\n');
const HEADERS: [string, string][] = [['Content-Type', 'text/plain; charset=utf-8']];
const CGI_NAMES = ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_URI', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL', 'SERVER_SOFTWARE', 'GATEWAY_INTERFACE', 'REMOTE_ADDR', 'REMOTE_PORT', 'SERVER_ADDR', 'HTTP_HOST', 'HTTP_USER_AGENT', 'HTTP_ACCEPT'];
function cgi(i: number): Record<string, string> {
  const c: Record<string, string> = {};
  for (const k of CGI_NAMES) c[k] = k === 'REMOTE_PORT' ? String(40000 + (i % 1000)) : `value of ${k.toLowerCase()}`;
  return c;
}
function copy(bytes: Buffer): ArrayBuffer {
  const ab = new ArrayBuffer(bytes.length);
  new Uint8Array(ab).set(bytes);
  return ab;
}

type Shape = (i: number) => [unknown, ArrayBuffer[] | undefined];
const SHAPES: Record<string, Shape> = {
  'response, objects + ArrayBuffer (before)': (i) => {
    const last = copy(BODY);
    return [{ t: 'end', id: i, head: [200, 'OK', HEADERS], last, done: true }, [last]];
  },
  'response, wire strings (now)': (i) => {
    const [last, transfer] = bodyToWire(BODY);
    return [{ t: 'end', id: i, head: encodeHead(200, 'OK', HEADERS), last, done: true }, transfer];
  },
  'request, CGI object (before)': (i) => [{ t: 'req', batch: [{ id: i, cgi: cgi(i), hasBody: false }] }, undefined],
  'request, encodeCgi string (now)': (i) => [{ t: 'req', batch: [[i, encodeCgi(cgi(i)), false]] }, undefined],
};

/**
 * A single-producer single-consumer byte ring over a SharedArrayBuffer. An entry is [u32 head length]
 * [u32 body length][head, latin1][body], written contiguously: one that does not fit before the end leaves
 * a 0xFFFFFFFF mark and starts at 0. ctl: [0] bytes written (total), [1] bytes read (total), [2] 1 while the
 * reader sleeps (the writer rings the doorbell only then).
 */
const RING = 64 * 1024;
const W = 0;
const R = 1;
const SLEEPING = 2;
const WRAP = 0xffffffff;

function ringWrite(ctl: Int32Array, buf: Buffer, head: string, body: Buffer): boolean {
  let w = Atomics.load(ctl, W);
  const need = 8 + head.length + body.length;
  let at = w % RING;
  const tail = RING - at;
  const total = need <= tail ? need : tail + need;
  if (RING - (w - Atomics.load(ctl, R)) < total) return false; // full: the writer waits for the reader
  if (need > tail) {
    if (tail >= 4) buf.writeUInt32LE(WRAP, at);
    w += tail;
    at = 0;
  }
  buf.writeUInt32LE(head.length, at);
  buf.writeUInt32LE(body.length, at + 4);
  buf.write(head, at + 8, 'latin1');
  body.copy(buf, at + 8 + head.length);
  Atomics.store(ctl, W, w + need);
  return true;
}

function ringDrain(ctl: Int32Array, buf: Buffer): number {
  let n = 0;
  let r = Atomics.load(ctl, R);
  const w = Atomics.load(ctl, W);
  while (r < w) {
    let at = r % RING;
    if (RING - at < 8 || buf.readUInt32LE(at) === WRAP) {
      r += RING - at;
      at = 0;
    }
    const headLength = buf.readUInt32LE(at);
    const bodyLength = buf.readUInt32LE(at + 4);
    // What the relay would need: the head as a string, the body as its own bytes (the ring is reused).
    buf.toString('latin1', at + 8, at + 8 + headLength);
    Buffer.from(buf.subarray(at + 8 + headLength, at + 8 + headLength + bodyLength));
    r += 8 + headLength + bodyLength;
    n++;
  }
  Atomics.store(ctl, R, r);
  return n;
}

/** Atomics.waitAsync (Node 16+; missing from this project's TypeScript lib). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

const RING_SHAPES = ['ring + postMessage doorbell', 'ring + Atomics.waitAsync doorbell'];

async function runRing(name: string, burst: number): Promise<number> {
  const sab = new SharedArrayBuffer(RING + 16);
  const ctl = new Int32Array(sab, RING, 3);
  const bytes = Buffer.from(sab, 0, RING);
  const worker = new Worker(new URL(import.meta.url), { workerData: { ring: name, sab, burst } });
  const before = process.cpuUsage();
  let seen = 0;
  await new Promise<void>((resolve) => {
    const drain = (): void => {
      for (;;) {
        seen += ringDrain(ctl, bytes);
        if (seen >= N) return resolve();
        Atomics.store(ctl, SLEEPING, 1);
        // Re-check after saying so: an entry written before the flag was seen gets no doorbell.
        if (Atomics.load(ctl, W) === Atomics.load(ctl, R)) break;
        Atomics.store(ctl, SLEEPING, 0);
      }
      if (name.includes('waitAsync')) {
        const w = waitAsync(ctl, W, Atomics.load(ctl, R));
        if (w.async) void (w.value as Promise<string>).then(drain);
        else drain();
      }
    };
    if (name.includes('waitAsync')) drain();
    else {
      Atomics.store(ctl, SLEEPING, 1);
      worker.on('message', drain);
    }
  });
  const used = process.cpuUsage(before);
  await worker.terminate();
  return (used.user + used.system) / N;
}

async function runMessages(name: string, burst: number): Promise<number> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { shape: name, burst } });
  const before = process.cpuUsage();
  let seen = 0;
  await new Promise<void>((resolve) =>
    worker.on('message', () => {
      if (++seen === N) resolve();
    }),
  );
  const used = process.cpuUsage(before);
  await worker.terminate();
  return (used.user + used.system) / N;
}

if (isMainThread) {
  console.log(`${N} messages per shape, worker -> main, process CPU per message (bursts of 16 per turn, then 1):\n`);
  for (const burst of [16, 1]) {
    for (const name of Object.keys(SHAPES)) console.log(`${name.padEnd(42)} burst ${String(burst).padStart(2)}: ${(await runMessages(name, burst)).toFixed(2)} us`);
    for (const name of RING_SHAPES) console.log(`${`response, ${name}`.padEnd(42)} burst ${String(burst).padStart(2)}: ${(await runRing(name, burst)).toFixed(2)} us`);
  }
}
if (!isMainThread && (workerData as { ring?: string }).ring !== undefined) {
  const { ring, sab, burst } = workerData as { ring: string; sab: SharedArrayBuffer; burst: number };
  const ctl = new Int32Array(sab, RING, 3);
  const bytes = Buffer.from(sab, 0, RING);
  const head = encodeHead(200, 'OK', HEADERS);
  let i = 0;
  const step = (): void => {
    for (let k = 0; k < burst && i < N; k++) {
      if (!ringWrite(ctl, bytes, head, BODY)) break; // full: try again next turn
      i++;
      if (Atomics.load(ctl, SLEEPING) === 1 && Atomics.compareExchange(ctl, SLEEPING, 1, 0) === 1) {
        if (ring.includes('waitAsync')) Atomics.notify(ctl, W);
        else parentPort!.postMessage(0);
      }
    }
    if (i < N) setImmediate(step);
  };
  step();
}
if (!isMainThread && (workerData as { shape?: string }).shape !== undefined) {
  const { shape, burst } = workerData as { shape: string; burst: number };
  const make = SHAPES[shape];
  let i = 0;
  const step = (): void => {
    for (let k = 0; k < burst && i < N; k++, i++) {
      const [msg, transfer] = make(i);
      parentPort!.postMessage(msg, transfer);
    }
    if (i < N) setImmediate(step);
  };
  step();
}
