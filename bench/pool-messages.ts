/**
 * What one message between a pool thread and the main thread costs, by shape: a worker thread posts
 * 100,000 messages (in bursts of 16 per turn, as a thread going through a batch does) and the process CPU
 * per message is printed. Shows why gateway/threads/channel.ts sends heads, small bodies and CGI variables
 * as strings: the structured clone costs per property, per nested array and per ArrayBuffer.
 *
 *     npm run build && node dist/bench/pool-messages.js        # ~10 s
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

if (isMainThread) {
  console.log(`${N} messages per shape, worker -> main, process CPU per message:\n`);
  for (const name of Object.keys(SHAPES)) {
    const worker = new Worker(new URL(import.meta.url), { workerData: name });
    const before = process.cpuUsage();
    let seen = 0;
    await new Promise<void>((resolve) =>
      worker.on('message', () => {
        if (++seen === N) resolve();
      }),
    );
    const used = process.cpuUsage(before);
    console.log(`${name.padEnd(42)} ${((used.user + used.system) / N).toFixed(2)} us`);
    await worker.terminate();
  }
} else {
  const make = SHAPES[workerData as string];
  let i = 0;
  const burst = (): void => {
    for (let k = 0; k < 16 && i < N; k++, i++) {
      const [msg, transfer] = make(i);
      parentPort!.postMessage(msg, transfer);
    }
    if (i < N) setImmediate(burst);
  };
  burst();
}
