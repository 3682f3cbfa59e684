/**
 * Scale-out, for real: three hosts (network namespaces on a bridge) run tsgi from the same config
 * (examples/deploy/scale-out/server.cfg: processPool = 2, sessions in redis on a fourth host), behind nginx
 * (upstream, proxy_next_upstream) and HAProxy (PROXY protocol v2, `option httpchk GET /ready`) in the root
 * namespace. Proves: requests are spread over the hosts; a session written through one host is read through
 * another; a host killed with SIGKILL under load loses no session and fails at most the requests in flight;
 * a host stopped with SIGTERM under load fails none. The load here is small (a few hundred requests); the
 * run at size is `npm run scaleout` (bench/scaleout.ts). Skipped where namespaces cannot be made; CI=true
 * makes that a failure.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { namespacesUnavailable } from './harness/netns.js';
import { get, HTTP_PORT, missingBinaries, ScaleOutCluster } from './harness/scale-out-cluster.js';
import { runSessionLoad } from './harness/session-load.js';
import { requireInstalled, ON_CI } from './harness/skip.js';

const APP = fileURLToPath(new URL('../fixtures/scale-out/app.js', import.meta.url));
const USERS = 8;

/** PUT/GET on one host directly (from the root namespace, which is in the hosts' trustedProxies). */
async function put(url: string, cookie?: string): Promise<{ status: number; body: string; cookie?: string }> {
  const res = await fetch(url, { method: 'PUT', headers: cookie === undefined ? {} : { cookie } });
  const set = res.headers.get('set-cookie');
  return { status: res.status, body: await res.text(), cookie: set === null ? undefined : set.split(';')[0] };
}

describe('scale-out: three hosts (network namespaces) behind nginx and HAProxy, sessions in redis', function () {
  this.timeout(300_000);
  let cluster: ScaleOutCluster | undefined;

  before(async function () {
    this.timeout(180_000);
    const why = namespacesUnavailable();
    if (why !== undefined) {
      if (ON_CI) throw new Error(`${why}; CI=true requires the scale-out test to run`);
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    for (const bin of missingBinaries()) requireInstalled(this, bin, undefined);
    cluster = await ScaleOutCluster.start({ app: APP });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && cluster !== undefined) console.log(cluster.diagnostics());
  });

  after(async function () {
    this.timeout(60_000);
    await cluster?.stop();
  });

  it('spreads requests over the three hosts, through nginx and through HAProxy (PROXY v2: tsgi sees the client)', async () => {
    const c = cluster!;
    for (const front of [c.nginxUrl, c.haproxyUrl]) {
      const seen = new Map<string, number>();
      // Bounded: HAProxy's first checks may still be running; three hosts answer well within 90 requests.
      for (let i = 0; i < 90 && (seen.size < 3 || i < 30); i++) {
        const r = await get(`${front}/whoami`);
        expect(r.status, `${front}: ${r.body}`).to.equal(200);
        const { host, remoteAddr } = JSON.parse(r.body) as { host: string; remoteAddr: string };
        // nginx's X-Forwarded-For and HAProxy's PROXY header are believed: the client, not the balancer.
        expect(remoteAddr, front).to.equal('127.0.0.1');
        seen.set(host, (seen.get(host) ?? 0) + 1);
      }
      expect([...seen.keys()].sort(), front).to.deep.equal(['host1', 'host2', 'host3']);
    }
  });

  it('a session written through one host is read through another', async () => {
    const [h1, h2, h3] = cluster!.hosts.map((h) => `http://${h.addr}:${HTTP_PORT}`);
    const first = await put(`${h1}/session?seq=1`);
    expect(first.status).to.equal(200);
    expect(first.cookie).to.match(/^session_id=/);
    const read = await fetch(`${h2}/session`, { headers: { cookie: first.cookie! } });
    expect(read.headers.get('set-cookie'), 'host2 knows the session').to.equal(null);
    expect(JSON.parse(await read.text())).to.deep.equal({ host: 'host2', last: 1, count: 1 });
    const second = await put(`${h3}/session?seq=2`, first.cookie);
    expect(second.cookie, 'host3 knows the session').to.equal(undefined);
    expect(JSON.parse(second.body)).to.deep.equal({ host: 'host3', last: 2, count: 2 });
  });

  it('SIGKILL of one host under load: no session lost, at most the in-flight requests fail; back, it takes traffic again', async () => {
    const c = cluster!;
    let killed = 0;
    const result = await runSessionLoad({
      url: c.nginxUrl,
      users: USERS,
      requests: 300,
      onResponse(sent) {
        if (killed === 0 && sent >= 100) killed = c.killHost(1);
      },
    });
    expect(killed, 'processes killed on host2 (primary + 2 workers)').to.be.at.least(3);
    expect(result.lost, 'sessions lost').to.deep.equal([]);
    // One request per user at a time: at most USERS were in flight, on any host, when host2 died.
    expect(result.failed, result.failures.join('\n')).to.be.at.most(USERS);
    expect(result.ok + result.failed).to.equal(300);
    expect(result.byHost.host2 ?? 0, 'host2 served before it was killed').to.be.greaterThan(0);

    await c.startHost(1);
    let back = false;
    // Bounded: nginx tries a failed host again after fail_timeout (2 s); 200 x 100 ms is ample.
    for (let i = 0; i < 200 && !back; i++) {
      const r = await get(`${c.nginxUrl}/whoami`);
      back = r.status === 200 && (JSON.parse(r.body) as { host: string }).host === 'host2';
      if (!back) await new Promise((res) => setTimeout(res, 100));
    }
    expect(back, 'host2 takes traffic again through nginx').to.equal(true);
  });

  it('SIGTERM of one host under load (nginx and HAProxy at once): 0 failed, 0 sessions lost, exit 0', async () => {
    const c = cluster!;
    let exit: Promise<number | null> | undefined;
    const [viaNginx, viaHaproxy] = await Promise.all([
      runSessionLoad({
        url: c.nginxUrl,
        users: USERS / 2,
        requests: 200,
        onResponse(sent) {
          if (exit === undefined && sent >= 60) exit = c.termHost(2);
        },
      }),
      runSessionLoad({ url: c.haproxyUrl, users: USERS / 2, requests: 200 }),
    ]);
    expect(exit, 'host3 was sent SIGTERM').to.not.equal(undefined);
    expect(await exit, 'host3 exit code').to.equal(0);
    for (const [name, r] of [['nginx', viaNginx], ['HAProxy', viaHaproxy]] as const) {
      expect(r.failed, `${name}: ${r.failures.join('\n')}`).to.equal(0);
      expect(r.lost, `${name}: sessions lost`).to.deep.equal([]);
      expect(r.ok, name).to.equal(200);
    }
  });
});
