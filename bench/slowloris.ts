/**
 * `npm run bench:slowloris`: does a slowloris attack slow down everyone else? Not a test (no assertion
 * on time): a figure, printed with the machine's load, recorded in RELIABILITY.md ("Slowloris").
 *
 * One tsgi command (examples/hello, single mode unless SLOWLORIS_MODE says threading / threadPool /
 * forking / processPool) listening with HTTP, SCGI and FastCGI. A client (SLOWLORIS_CLIENTS loops, default
 * 4, one request at a time each, a new connection per request, fronts in turn) measures the latency of
 * ordinary requests: alone (SLOWLORIS_BASELINE_SECONDS, default 16, half before and half after the
 * attack), and while SLOWLORIS_SOCKETS
 * sockets per front (default 300) drip the start of a request and never finish it
 * (SLOWLORIS_SECONDS, default 60):
 *
 * - HTTP: a request line and `Host`, then one more header line per socket per SLOWLORIS_DRIP_MS (default
 *   1000); the header timeout (headerTimeout, 20 s) closes them, and the attacker reconnects at once, as a
 *   real one does, so the number held stays at the target;
 * - SCGI: a netstring length, then a few bytes of the head per drip;
 * - FastCGI: FCGI_BEGIN_REQUEST, then an FCGI_PARAMS record that announces 65,535 bytes and gets 8 per drip.
 *
 * Prints p50 and p99 per front, baseline and under attack, their ratio (goal: p99 under attack < 2x the
 * baseline), errors, and how many attack sockets the server closed. Every socket and the server are closed
 * at the end; all traffic is on 127.0.0.1. SLOWLORIS_FRONTS=http (or a comma list) to run fewer fronts.
 */
import net from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { encodeScgiHead } from '../adapters/scgi/parse.js';
import { CliServer, MODE_LINES } from '../test/support/cli-server.js';
import { beginRecord, cgiParams, nameValues, record, ROLE, streamRecords, T } from '../test/support/fcgi-client.js';
import { nginxVars } from '../test/support/scgi-client.js';

type Front = 'http' | 'scgi' | 'fastcgi';

const num = (name: string, dflt: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
const ATTACK_SECONDS = num('SLOWLORIS_SECONDS', 60);
const BASELINE_SECONDS = num('SLOWLORIS_BASELINE_SECONDS', 16);
const SOCKETS = Math.round(num('SLOWLORIS_SOCKETS', 300));
const CLIENTS = Math.round(num('SLOWLORIS_CLIENTS', 4));
const DRIP_MS = num('SLOWLORIS_DRIP_MS', 1000);
const MODE = process.env.SLOWLORIS_MODE ?? 'single';
const FRONTS = (process.env.SLOWLORIS_FRONTS ?? 'http,scgi,fastcgi').split(',').map((f) => f.trim()) as Front[];
/** No single request may take longer than this (then it counts as an error). */
const REQUEST_TIMEOUT_MS = 10_000;

const APP = fileURLToPath(new URL('../examples/hello/app.js', import.meta.url));
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(', ');

/** The bytes of one ordinary request, and how to tell its answer is a success. */
const ORDINARY: Record<Front, { bytes: Buffer; ok(reply: Buffer): boolean }> = {
  http: {
    bytes: Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', 'latin1'),
    ok: (r) => r.subarray(0, 13).toString('latin1') === 'HTTP/1.1 200 ',
  },
  scgi: { bytes: encodeScgiHead(0, nginxVars('GET', '/')), ok: (r) => /^Status: 200 /.test(r.subarray(0, 16).toString('latin1')) },
  fastcgi: {
    bytes: Buffer.concat([beginRecord(1, ROLE.RESPONDER, false), streamRecords(T.PARAMS, 1, nameValues(cgiParams('GET', '/', { SCRIPT_NAME: '', PATH_INFO: '/' }))), record(T.STDIN, 1)]),
    // An FCGI_END_REQUEST record (type 3) with protocol status 0 ends a served request.
    ok: (r) => r.length >= 16 && r[r.length - 16 + 1] === T.END_REQUEST && r[r.length - 16 + 8 + 4] === 0,
  },
};

/** What an attack socket sends first, and then at each drip. */
const ATTACK: Record<Front, { first: Buffer; drip: Buffer }> = {
  http: { first: Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n', 'latin1'), drip: Buffer.from('X-Slow: 1\r\n', 'latin1') },
  scgi: { first: Buffer.from('60000:CONTENT_LENGTH\0', 'latin1'), drip: Buffer.from('0\0', 'latin1') },
  fastcgi: {
    first: Buffer.concat([beginRecord(1, ROLE.RESPONDER, false), Buffer.from([1, T.PARAMS, 0, 1, 0xff, 0xff, 0, 0])]),
    drip: Buffer.from([3, 0, 'A'.charCodeAt(0), 0x41, 0x41, 0x41, 0x41, 0x41]),
  },
};

/** One ordinary request on a new connection: its latency in ms, or null on an error. */
function ordinary(port: number, front: Front): Promise<number | null> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), REQUEST_TIMEOUT_MS);
    let failed = false;
    socket.on('data', (c: Buffer) => got.push(c));
    socket.on('error', () => (failed = true));
    socket.on('close', () => {
      clearTimeout(timer);
      const ok = !failed && ORDINARY[front].ok(Buffer.concat(got));
      resolve(ok ? Number(process.hrtime.bigint() - started) / 1e6 : null);
    });
    socket.write(ORDINARY[front].bytes);
  });
}

/** Latencies and errors per front over one phase. */
type Samples = Record<Front, { ms: number[]; errors: number }>;

/** CLIENTS loops of ordinary requests, fronts in turn, until `seconds` are over. */
async function measureFor(ports: Record<Front, number>, seconds: number): Promise<Samples> {
  const samples = Object.fromEntries(FRONTS.map((f) => [f, { ms: [] as number[], errors: 0 }])) as Samples;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = c; Date.now() < until; i++) {
        const front = FRONTS[i % FRONTS.length];
        const ms = await ordinary(ports[front], front);
        if (ms === null) samples[front].errors++;
        else samples[front].ms.push(ms);
      }
    }),
  );
  return samples;
}

/** SOCKETS attack sockets per front, each dripping; one reopened at once when the server closes it. */
class Attack {
  readonly closedByServer: Record<Front, number> = { http: 0, scgi: 0, fastcgi: 0 };
  private readonly sockets: Array<{ front: Front; socket: net.Socket | null }> = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private tick = 0;

  constructor(private readonly ports: Record<Front, number>) {
    for (const front of FRONTS) for (let i = 0; i < SOCKETS; i++) this.sockets.push({ front, socket: null });
  }

  start(): void {
    for (const slot of this.sockets) this.open(slot);
    // Ten slices per drip period: each socket drips once per period, spread over it.
    this.timer = setInterval(() => {
      const slice = this.tick++ % 10;
      for (let i = slice; i < this.sockets.length; i += 10) {
        const s = this.sockets[i].socket;
        if (s !== null && !s.destroyed && s.writable) s.write(ATTACK[this.sockets[i].front].drip);
      }
    }, DRIP_MS / 10);
  }

  /** Sockets connected now. */
  get held(): number {
    return this.sockets.filter((s) => s.socket !== null && !s.socket.destroyed).length;
  }

  private open(slot: { front: Front; socket: net.Socket | null }): void {
    if (this.stopped) return;
    const socket = net.connect(this.ports[slot.front], '127.0.0.1');
    slot.socket = socket;
    socket.on('error', () => {});
    socket.on('data', () => {}); // a 408 or a FastCGI END_REQUEST before the close
    socket.on('close', () => {
      if (this.stopped) return;
      this.closedByServer[slot.front]++;
      setImmediate(() => this.open(slot));
    });
    socket.write(ATTACK[slot.front].first);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    for (const s of this.sockets) s.socket?.destroy();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const f1 = (n: number): string => (Number.isNaN(n) ? '-' : n.toFixed(1));

const server = await CliServer.start(APP, [
  ...(MODE_LINES[MODE] ?? []),
  '',
  '[server:scgi]',
  'socketPort = 0',
  'socketHost = 127.0.0.1',
  'protocol = scgi',
  '',
  '[server:fastcgi]',
  'socketPort = 0',
  'socketHost = 127.0.0.1',
  'protocol = fastcgi',
]);
const ports: Record<Front, number> = { http: server.port, scgi: server.ports.scgi, fastcgi: server.ports.fastcgi };
const attack = new Attack(ports);
try {
  console.error(`slowloris: tsgi ${MODE} (hello), fronts ${FRONTS.join(', ')}; load average ${load()}`);
  await measureFor(ports, 2); // warm-up, not counted
  // The baseline is measured half before and half after the attack, so drift of a shared machine's load
  // over the run weighs on both sides alike.
  console.error(`baseline (first half): ${BASELINE_SECONDS / 2} s, ${CLIENTS} client loop(s)`);
  const before = await measureFor(ports, BASELINE_SECONDS / 2);
  attack.start();
  console.error(`attack: ${SOCKETS} socket(s) per front dripping every ${DRIP_MS} ms, ${ATTACK_SECONDS} s`);
  const during = measureFor(ports, ATTACK_SECONDS);
  const heldSamples: number[] = [];
  const sampler = setInterval(() => heldSamples.push(attack.held), 1000);
  const under = await during;
  clearInterval(sampler);
  attack.stop();
  await new Promise((r) => setTimeout(r, 1000)); // the server closes the attack sockets
  console.error(`baseline (second half): ${BASELINE_SECONDS / 2} s`);
  const afterwards = await measureFor(ports, BASELINE_SECONDS / 2);
  const baseline = Object.fromEntries(FRONTS.map((f) => [f, { ms: [...before[f].ms, ...afterwards[f].ms], errors: before[f].errors + afterwards[f].errors }])) as Samples;

  console.log('');
  console.log(`tsgi ${MODE}, examples/hello; ${SOCKETS} attack sockets per front, ${ATTACK_SECONDS} s (baseline ${BASELINE_SECONDS} s), ${CLIENTS} client loop(s), a new connection per request`);
  console.log(`attack sockets held (sampled each second): min ${Math.min(...heldSamples)}, max ${Math.max(...heldSamples)} of ${SOCKETS * FRONTS.length}`);
  console.log('');
  console.log('| front | baseline requests | baseline p50 ms | baseline p99 ms | attack requests | attack p50 ms | attack p99 ms | p99 ratio | errors (baseline / attack) | attack sockets closed by the server |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  let met = true;
  for (const front of FRONTS) {
    const b = [...baseline[front].ms].sort((x, y) => x - y);
    const a = [...under[front].ms].sort((x, y) => x - y);
    const ratio = percentile(a, 99) / percentile(b, 99);
    if (!(ratio < 2) || under[front].errors > 0) met = false;
    console.log(`| ${front} | ${b.length} | ${f1(percentile(b, 50))} | ${f1(percentile(b, 99))} | ${a.length} | ${f1(percentile(a, 50))} | ${f1(percentile(a, 99))} | ${ratio.toFixed(2)}x | ${baseline[front].errors} / ${under[front].errors} | ${attack.closedByServer[front]} |`);
  }
  console.log('');
  console.log(`goal: p99 under attack < 2x baseline, no errors: ${met ? 'met' : 'MISSED'}; load average at the end ${load()}`);
} finally {
  attack.stop();
  await server.stop();
}
