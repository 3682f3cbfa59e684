/**
 * The rows of the reverse-proxy cost (proxy mode, PROXY protocol v2) that `npm run bench` and
 * `npm run bench:proxy` both measure, and the lines that report them against their baselines (goal: <= 3%
 * fewer req/s):
 *
 * - `tsgi inline +xff` vs `tsgi proxy mode`: the trusted-proxy dispatcher rewriting every request whose
 *   X-Forwarded-For and X-Forwarded-Proto come from a trusted peer (127.0.0.1); both get the same headers,
 *   so the difference is the rewrite, not llhttp parsing two more headers;
 * - `haproxy -> tsgi` vs `haproxy pp2 -> tsgi`: HAProxy (TCP mode, one thread) in front of each, plain and
 *   with `send-proxy-v2` to a `proxyProtocol` listener. wrk cannot write a PROXY header, so HAProxy does, as
 *   in production. BENCH_CLOSE=1 sends `Connection: close` (a new connection, so a new PROXY header, per
 *   request) instead of keep-alive. The HAProxy pair is left out when haproxy is not installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childServer, meetsGoal, pairedRatio, type BenchResult, type BenchServer } from './measure.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const close: Record<string, string> = process.env.BENCH_CLOSE === '1' ? { Connection: 'close' } : {};
const FORWARDED = { 'X-Forwarded-For': '192.0.2.7', 'X-Forwarded-Proto': 'https', ...close };

function withHeaders(server: BenchServer, headers: Record<string, string>): BenchServer {
  return { name: server.name, start: async () => ({ ...(await server.start()), headers }) };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** HAProxy in TCP mode on a free port in front of `backend`; `sendProxy` adds `send-proxy-v2`. */
function behindHaproxy(name: string, backend: BenchServer, sendProxy: boolean): BenchServer {
  return {
    name,
    async start() {
      const b = await backend.start();
      const dir = mkdtempSync(join(tmpdir(), 'tsgi-bench-haproxy-'));
      const port = await freePort();
      const upstream = new URL(b.url).host;
      const cfg = join(dir, 'haproxy.cfg');
      writeFileSync(cfg, `global\n    nbthread 1\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\nfrontend f\n    bind 127.0.0.1:${port}\n    default_backend b\nbackend b\n    server s ${upstream}${sendProxy ? ' send-proxy-v2' : ''}\n`);
      const hp = spawn('haproxy', ['-db', '-f', cfg], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        const ok = await new Promise<boolean>((resolve) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); resolve(true); }).once('error', () => resolve(false)));
        if (ok) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      return {
        url: `http://127.0.0.1:${port}`,
        pid: b.pid,
        headers: close,
        async stop() {
          hp.kill('SIGTERM');
          await b.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** True when haproxy is installed (the PROXY protocol pair needs it). */
export const haveHaproxy: boolean = spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).error === undefined;

/**
 * The servers of the proxy rows. `inlineName`: the name of the plain row with the forwarded headers (the
 * proxy-mode baseline).
 */
export function proxyServers(inlineName = 'tsgi inline +xff'): BenchServer[] {
  const inline = childServer(inlineName, here('./servers/tsgi-inline.js'));
  const servers: BenchServer[] = [withHeaders(inline, FORWARDED), withHeaders(childServer('tsgi proxy mode', here('./servers/tsgi-proxy.js'), ['wrap']), FORWARDED)];
  if (haveHaproxy) {
    servers.push(behindHaproxy('haproxy -> tsgi', childServer('tsgi', here('./servers/tsgi-inline.js')), false));
    servers.push(behindHaproxy('haproxy pp2 -> tsgi', childServer('tsgi pp', here('./servers/tsgi-proxy.js'), ['pp']), true));
  } else console.error('haproxy is not installed: the PROXY protocol pair is skipped (Debian package: haproxy)');
  return servers;
}

/** The baselines the proxy rows are compared with, for formatResults. */
export function proxyBaselines(inlineName = 'tsgi inline +xff'): string[] {
  return [inlineName, ...(haveHaproxy ? ['haproxy -> tsgi'] : [])];
}

/** Print the cost lines: proxy mode vs its baseline, PROXY protocol v2 vs plain HAProxy. */
export function reportProxy(results: BenchResult[], inlineName = 'tsgi inline +xff'): void {
  const by = (n: string): BenchResult | undefined => results.find((r) => r.name === n);
  const report = (what: string, a: string, b: string): void => {
    const x = by(a);
    const y = by(b);
    if (x === undefined || y === undefined) return;
    // Judged on the paired figure (measure.ts meetsGoal): at most 3% fewer is at least 0.97x.
    const c = pairedRatio(y, x)!;
    const loss = 1 - c.paired;
    console.log(`${what}: ${(loss * 100).toFixed(1)}% fewer req/s than ${a}, paired (medians ${((1 - c.ofMedians) * 100).toFixed(1)}%) (goal <= 3%: ${meetsGoal(c, 0.97) ? 'met' : 'MISSED'})`);
  };
  report('proxy mode', inlineName, 'tsgi proxy mode');
  report('PROXY protocol v2', 'haproxy -> tsgi', 'haproxy pp2 -> tsgi');
}
