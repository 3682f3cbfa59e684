/**
 * Simulated hosts on one machine: Linux network namespaces joined by veth pairs to a bridge in the root
 * namespace, each with its own address in a /24. Every name carries a random suffix (several runs, and
 * other users of the machine, never collide), and `destroy()` removes every namespace, veth and the bridge
 * and kills what still runs inside, so a failing test leaves nothing behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';

/** Run `ip ARGS`; throws with ip's message on failure. */
function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why this machine cannot make namespaces (not root, no `ip`, no permission), or undefined when it can. */
export function namespacesUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  const probe = `tsgi-probe-${randomBytes(3).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error !== undefined) return `the ip command is not available (Debian package: iproute2): ${add.error.message}`;
  if (add.status !== 0) return `ip netns add fails here (root and CAP_SYS_ADMIN are needed): ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

/** One simulated host. */
export interface NetHost {
  /** A short label (`host1`, `redis`). */
  readonly label: string;
  /** The namespace's name (for `ip netns exec`). */
  readonly ns: string;
  /** Its IPv4 address on the bridge. */
  readonly addr: string;
}

/** A bridge, its /24 and the hosts on it. The root namespace is `gateway` (the .1 address). */
export class HostNet {
  readonly hosts: NetHost[] = [];
  private readonly veths: string[] = [];
  private bridgeMade = false;
  /** The root namespace's address on the bridge: where nginx and HAProxy connect from. */
  readonly gateway: string;

  private constructor(readonly suffix: string, readonly prefix: string, readonly bridge: string) {
    this.gateway = `${prefix}.1`;
  }

  /** A bridge on a /24 of 10.0.0.0/8 that no route of this machine uses yet. */
  static create(): HostNet {
    const routes = ip('-4', 'route', 'show');
    let prefix = '';
    for (let i = 0; i < 50 && prefix === ''; i++) {
      const p = `10.${randomInt(64, 250)}.${randomInt(1, 250)}`;
      if (!routes.includes(`${p}.`)) prefix = p;
    }
    if (prefix === '') throw new Error('no free 10.x.y.0/24 found for the test bridge');
    const suffix = randomBytes(3).toString('hex');
    const net = new HostNet(suffix, prefix, `tsbr${suffix}`);
    try {
      ip('link', 'add', net.bridge, 'type', 'bridge');
      net.bridgeMade = true;
      ip('addr', 'add', `${net.gateway}/24`, 'dev', net.bridge);
      ip('link', 'set', net.bridge, 'up');
    } catch (err) {
      net.destroy();
      throw err;
    }
    return net;
  }

  /** A new namespace with address .`n`, linked to the bridge. */
  addHost(label: string, n: number): NetHost {
    const ns = `tsgi-${this.suffix}-${label}`;
    const veth = `tsv${this.suffix}${this.hosts.length}`;
    const host: NetHost = { label, ns, addr: `${this.prefix}.${n}` };
    ip('netns', 'add', ns);
    this.hosts.push(host);
    ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    this.veths.push(veth);
    ip('link', 'set', veth, 'master', this.bridge);
    ip('link', 'set', veth, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', `${host.addr}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    return host;
  }

  /** The command line that runs `argv` inside `host`'s namespace. */
  static exec(host: NetHost, argv: string[]): { command: string; args: string[] } {
    return { command: 'ip', args: ['netns', 'exec', host.ns, ...argv] };
  }

  /** Pids of every process in `host`'s namespace. */
  static pids(host: NetHost): number[] {
    const r = spawnSync('ip', ['netns', 'pids', host.ns], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.split(/\s+/).filter((s) => s !== '').map(Number) : [];
  }

  /** SIGKILL every process in `host`'s namespace: the host "loses power". Returns how many were killed. */
  static killAll(host: NetHost): number {
    const pids = HostNet.pids(host);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    return pids.length;
  }

  /** Remove everything: processes in the namespaces, the namespaces (their veth ends go with them), the bridge. */
  destroy(): void {
    for (const h of this.hosts) {
      HostNet.killAll(h);
      spawnSync('ip', ['netns', 'del', h.ns]);
    }
    for (const v of this.veths) spawnSync('ip', ['link', 'del', v], { stdio: 'ignore' });
    if (this.bridgeMade) spawnSync('ip', ['link', 'del', this.bridge]);
    this.hosts.length = 0;
    this.veths.length = 0;
    this.bridgeMade = false;
  }
}
