/**
 * `npm run scaleout`: the failover and graceful-stop runs of the three-host deployment at size (the test in
 * test/integration/scale-out.test.ts runs the same scenario with a few hundred requests).
 *
 *   1. Failover: SCALEOUT_REQUESTS (default 20,000) session writes through nginx by SCALEOUT_USERS (16)
 *      users; at half, host2 is killed (SIGKILL to every process of its namespace); 5 s later it is started
 *      again. Prints requests failed, sessions lost, and the time until host2 takes traffic again.
 *   2. Graceful stop: the same number of writes, half through nginx and half through HAProxy; at a quarter,
 *      host3 gets SIGTERM (drainDelay, then drain). Goal: 0 failed, 0 sessions lost, exit 0.
 *
 * SCALEOUT_RUNS=graceful (or failover) runs one of them; SCALEOUT_DRAIN_DELAY=S overrides the config's
 * drainDelay on every host (`--drain-delay S`), to see what the readiness window is worth.
 *
 * Bounded: each run stops sending after SCALEOUT_TIME_S (default 300 s). Needs root (network namespaces),
 * nginx, haproxy and redis-server. Every namespace and process is removed at the end, also on Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { namespacesUnavailable } from '../test/integration/harness/netns.js';
import { missingBinaries, ScaleOutCluster } from '../test/integration/harness/scale-out-cluster.js';
import { runSessionLoad, type LoadResult } from '../test/integration/harness/session-load.js';

const REQUESTS = Number(process.env.SCALEOUT_REQUESTS ?? 20_000);
const USERS = Number(process.env.SCALEOUT_USERS ?? 16);
const DEADLINE_MS = Number(process.env.SCALEOUT_TIME_S ?? 300) * 1000;
const RESTART_AFTER_MS = 5000;
const RUNS = (process.env.SCALEOUT_RUNS ?? 'failover,graceful').split(',');
const DRAIN_DELAY = process.env.SCALEOUT_DRAIN_DELAY;

function uptime(): string {
  return execFileSync('uptime', { encoding: 'utf8' }).trim();
}

function summary(name: string, r: LoadResult): string {
  const hosts = Object.entries(r.byHost).sort().map(([h, n]) => `${h} ${n}`).join(', ');
  return [
    `${name}: ${r.sent} requests in ${(r.ms / 1000).toFixed(1)} s (${Math.round((r.ok / r.ms) * 1000)} req/s), ${r.ok} ok, ${r.failed} failed, ${r.lostSessions} sessions lost of ${USERS}`,
    `  served by: ${hosts}`,
    ...r.failures.map((f) => `  failure: ${f}`),
    ...r.lost.map((l) => `  lost: ${l}`),
  ].join('\n');
}

async function failover(c: ScaleOutCluster): Promise<void> {
  let killedAt = 0;
  let restartAt = 0;
  let readyMs = 0;
  let backAt = 0;
  let restarting: Promise<void> | undefined;
  const result = await runSessionLoad({
    url: c.nginxUrl,
    users: USERS,
    requests: REQUESTS,
    deadlineMs: DEADLINE_MS,
    onResponse(sent, host) {
      if (killedAt === 0 && sent >= REQUESTS / 2) {
        const n = c.killHost(1);
        killedAt = Date.now();
        console.log(`  host2 killed (SIGKILL to ${n} processes) after ${sent} requests`);
        restarting = new Promise((r) => setTimeout(r, RESTART_AFTER_MS)).then(async () => {
          restartAt = Date.now();
          readyMs = await c.startHost(1);
        });
      }
      if (restartAt !== 0 && backAt === 0 && host === 'host2') backAt = Date.now();
    },
  });
  await restarting;
  console.log(summary('failover (nginx, host2 SIGKILLed at half, restarted 5 s later)', result));
  if (restartAt === 0) console.log('  host2 was not restarted: the run ended first (raise SCALEOUT_REQUESTS)');
  else {
    console.log(`  host2 restarted: ready (readyPath 200) ${(readyMs / 1000).toFixed(2)} s after the start command`);
    console.log(backAt === 0
      ? '  host2 served no request of the run after its restart (the run ended first)'
      : `  host2 took traffic again ${((backAt - restartAt) / 1000).toFixed(2)} s after the start command (${((backAt - killedAt) / 1000).toFixed(2)} s after the kill)`);
  }
}

async function graceful(c: ScaleOutCluster): Promise<void> {
  let exit: Promise<number | null> | undefined;
  let termAt = 0;
  const half = Math.floor(REQUESTS / 2);
  const [viaNginx, viaHaproxy] = await Promise.all([
    runSessionLoad({
      url: c.nginxUrl,
      users: USERS / 2,
      requests: half,
      deadlineMs: DEADLINE_MS,
      onResponse(sent) {
        if (exit === undefined && sent >= half / 2) {
          termAt = Date.now();
          exit = c.termHost(2);
          console.log(`  host3 sent SIGTERM after ${sent} requests through nginx`);
        }
      },
    }),
    runSessionLoad({ url: c.haproxyUrl, users: USERS / 2, requests: REQUESTS - half, deadlineMs: DEADLINE_MS }),
  ]);
  const code = await exit;
  console.log(summary('graceful stop, through nginx', viaNginx));
  console.log(summary('graceful stop, through HAProxy', viaHaproxy));
  console.log(`  host3 exited with code ${code}${termAt !== 0 ? '' : ' (never stopped)'}`);
}

async function main(): Promise<void> {
  const why = namespacesUnavailable() ?? (missingBinaries().length > 0 ? `missing: ${missingBinaries().join(', ')}` : undefined);
  if (why !== undefined) {
    console.error(`scaleout: cannot run: ${why}`);
    process.exitCode = 1;
    return;
  }
  console.log(`scaleout: ${REQUESTS} requests per run, ${USERS} users${DRAIN_DELAY === undefined ? '' : `, drainDelay ${DRAIN_DELAY} s`}; node ${process.version}\n  ${uptime()}`);
  let cluster: ScaleOutCluster | undefined;
  const cleanup = (): void => {
    void cluster?.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
  try {
    cluster = await ScaleOutCluster.start({ tsgiArgs: DRAIN_DELAY === undefined ? [] : ['--drain-delay', DRAIN_DELAY] });
    if (RUNS.includes('failover')) {
      await failover(cluster);
      console.log(`  ${uptime()}`);
    }
    if (RUNS.includes('graceful')) {
      await graceful(cluster);
      console.log(`  ${uptime()}`);
    }
  } finally {
    await cluster?.stop();
  }
}

await main();
