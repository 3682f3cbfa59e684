/**
 * `npm run bench:scgi-path`: the CPU cost of one SCGI request (one connection) in tsgi's SCGI front and in
 * the bare floor's code (bench/servers/scgi-floor-connection.ts), without nginx and without wall-clock noise
 * from other processes. Each request is a fresh connection fed the bytes nginx 1.22 sends for wrk's `GET /`
 * under bench/nginx/scgi_params.conf; the peer closes its side once the response has ended, as nginx does.
 *
 * Two drivers:
 * - default: a fake socket (a Duplex that drops what is written), so only JavaScript is timed.
 *   `node --cpu-prof` on a child shows where it goes (with real sockets the profiler misplaces syscalls).
 * - SCGI_PATH_SOCKETS=1: real loopback sockets, client and server in one process (the client's CPU is
 *   included, the same client for both rows).
 * The figure is the process's CPU time (process.cpuUsage) per request over N requests, 32 in flight like
 * wrk -c32, so other processes' load moves it less than wall time.
 *
 *     SCGI_PATH_N=100000 SCGI_PATH_ROUNDS=5 node dist/bench/scgi-path.js
 *     node --cpu-prof --cpu-prof-interval 100 dist/bench/scgi-path.js 'scgi tsgi'   # one row, profiled
 */
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createScgiHandler } from '../adapters/scgi/connection.js';
import { encodeScgiHead } from '../adapters/scgi/parse.js';
import { startScgiServer } from '../adapters/scgi/server.js';
import { app as hello } from '../examples/hello/app.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog } from '../gateway/core/log.js';
import { serveFloorConnection } from './servers/scgi-floor-connection.js';

const N = Number(process.env.SCGI_PATH_N ?? 100_000);
const ROUNDS = Number(process.env.SCGI_PATH_ROUNDS ?? 5);
const SOCKETS = process.env.SCGI_PATH_SOCKETS === '1';
const WARMUP = Number(process.env.SCGI_PATH_WARMUP ?? 5000);
const IN_FLIGHT = 32;
const HELLO = 'Hello, world!\n';

/** What nginx sends for `GET /` from wrk (Host header only), in nginx's order: CONTENT_LENGTH, scgi_params, HTTP_*. */
const REQUEST = encodeScgiHead(0, [
  ['REQUEST_METHOD', 'GET'],
  ['REQUEST_URI', '/'],
  ['QUERY_STRING', ''],
  ['CONTENT_TYPE', ''],
  ['SCRIPT_NAME', ''],
  ['PATH_INFO', '/'],
  ['SERVER_PROTOCOL', 'HTTP/1.1'],
  ['REQUEST_SCHEME', 'http'],
  ['GATEWAY_INTERFACE', 'CGI/1.1'],
  ['SERVER_SOFTWARE', 'nginx/1.22.1'],
  ['REMOTE_ADDR', '127.0.0.1'],
  ['REMOTE_PORT', '52814'],
  ['SERVER_PORT', '39181'],
  ['SERVER_NAME', ''],
  ['HTTP_HOST', '127.0.0.1:39181'],
]);

type Serve = (socket: net.Socket) => void;

const log = new ErrorLog();
const ROWS: Record<string, () => Serve> = {
  'scgi floor': () => serveFloorConnection as Serve,
  'scgi tsgi': () => {
    const handler = createScgiHandler(new InlineDispatcher(hello, { log }), { log });
    return (socket) => void handler.handleConnection(socket);
  },
};

let bytes = 0;
let capture: Buffer[] | null = null;

/**
 * A socket for one connection that takes every write and says it is connected from 127.0.0.1:40000. Once the
 * server has ended its side the peer ends its own on a later turn (nginx closes after reading the response),
 * and `done` is called when the stream is destroyed, as a net.Socket is once both sides are done. The
 * address fields are prototype getters: setting them on each instance (Object.assign) turned every socket
 * into a slow dictionary object, for both rows.
 */
class FakeSocket extends Duplex {
  constructor(private readonly done: () => void) {
    super({ allowHalfOpen: true });
  }
  get remoteAddress(): string {
    return '127.0.0.1';
  }
  get remotePort(): number {
    return 40000;
  }
  get bytesRead(): number {
    return 0;
  }
  get bytesWritten(): number {
    return 0;
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    bytes += chunk.length;
    capture?.push(Buffer.from(chunk));
    cb();
  }
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    for (const c of chunks) {
      bytes += c.chunk.length;
      capture?.push(Buffer.from(c.chunk));
    }
    cb();
  }
  override _final(cb: (err?: Error | null) => void): void {
    cb();
    setImmediate(() => this.push(null)); // the peer read the response and closes (a later event loop turn)
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    cb(err);
    this.done();
  }
}

/** One connection on a fake socket: the request bytes arrive, the response goes nowhere. */
function fakeRequest(serve: Serve): Promise<void> {
  return new Promise((resolve) => {
    const s = new FakeSocket(resolve);
    serve(s as unknown as net.Socket);
    s.push(REQUEST);
  });
}

/** One connection over loopback to `port`: write the request, read to EOF, close. */
function socketRequest(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('connect', () => c.write(REQUEST));
    c.on('data', (d: Buffer) => {
      bytes += d.length;
      capture?.push(d);
    });
    c.on('end', () => c.end());
    c.on('close', () => resolve());
    c.on('error', reject);
  });
}

/** `count` requests, IN_FLIGHT at a time. */
async function run(count: number, one: () => Promise<void>): Promise<void> {
  let started = 0;
  const lane = async (): Promise<void> => {
    while (started < count) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, lane));
}

/** Time one row: ns of CPU time (the process's, so other processes' load does not count) per request. */
async function time(name: string): Promise<number> {
  const serve = ROWS[name]();
  let one: () => Promise<void>;
  if (SOCKETS) {
    if (name === 'scgi tsgi') {
      // The real server (its listener options and wrapper), not only the connection code.
      const s = await startScgiServer(new InlineDispatcher(hello, { log }), { host: '127.0.0.1', port: 0, log });
      one = () => socketRequest(s.port);
    } else {
      const server = net.createServer({ allowHalfOpen: true, noDelay: true }, serve);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as net.AddressInfo).port;
      one = () => socketRequest(port);
    }
  } else one = () => fakeRequest(serve);
  capture = [];
  await one();
  const out = Buffer.concat(capture).toString('latin1');
  capture = null;
  if (!out.startsWith('Status: 200 OK\r\n') || !out.endsWith('\r\n\r\n' + HELLO)) throw new Error(`${name}: the response was ${JSON.stringify(out)}`);
  await run(WARMUP, one);
  const b0 = bytes;
  const cpu0 = process.cpuUsage();
  await run(N, one);
  const cpu = process.cpuUsage(cpu0);
  // Every request answered in full: as many bytes as the first response, each time.
  if (bytes - b0 !== out.length * N) throw new Error(`${name}: ${bytes - b0} bytes for ${N} responses of ${out.length}`);
  return ((cpu.user + cpu.system) * 1000) / N;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (process.argv[2] !== undefined) {
  // A child: time one row once and print the figure.
  const x = await time(process.argv[2]);
  console.log(JSON.stringify({ x }));
  process.exit(0);
}

// Each row in its own process, rounds interleaved, so neither row runs on the other's JIT state or heap.
const results = new Map<string, number[]>();
for (let r = 0; r < ROUNDS; r++) {
  for (const name of Object.keys(ROWS)) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), name], { encoding: 'utf8', env: process.env });
    results.set(name, [...(results.get(name) ?? []), (JSON.parse(out.trim().split('\n').pop()!) as { x: number }).x]);
  }
}
const unit = 'cpu ns/req';
const base = median(results.get('scgi floor')!);
console.log(`${'path'.padEnd(12)} ${unit.padStart(10)}  ${'vs floor'.padStart(8)}  rounds (${N} requests each, ${IN_FLIGHT} in flight, median of ${ROUNDS}${SOCKETS ? ', loopback sockets' : ', fake socket'})`);
for (const [name, xs] of results) {
  const m = median(xs);
  console.log(`${name.padEnd(12)} ${m.toFixed(0).padStart(10)}  ${(m / base).toFixed(2).padStart(7)}x  ${xs.map((x) => x.toFixed(0)).join(' / ')}`);
}
