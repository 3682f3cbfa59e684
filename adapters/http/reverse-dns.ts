/**
 * reverseDNS (CherryPy's `server.reverse_dns`): REMOTE_HOST from a PTR lookup. A lookup never holds a request
 * longer than `timeoutMs`; answers (and failures) are cached for `ttlMs`, and concurrent lookups of one
 * address share one query, so a burst from one client costs one DNS round trip.
 */
import { Resolver } from 'node:dns/promises';

/** Reverse lookups with a deadline, a cache and single-flight. */
export class ReverseDns {
  private readonly cache = new Map<string, { name: string | undefined; expires: number }>();
  private readonly inflight = new Map<string, Promise<string | undefined>>();
  private readonly resolver: Resolver;

  /** @param servers DNS servers (`ip[:port]`) to ask instead of the system's (tests point this at a loopback stub). */
  constructor(private readonly timeoutMs = 250, private readonly ttlMs = 300_000, private readonly maxEntries = 10_000, servers?: string[]) {
    this.resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
    if (servers !== undefined) this.resolver.setServers(servers);
  }

  /** The host name of `ip`, or undefined when there is none or it did not come in time. */
  lookup(ip: string): Promise<string | undefined> {
    const hit = this.cache.get(ip);
    if (hit !== undefined && hit.expires > Date.now()) return Promise.resolve(hit.name);
    const pending = this.inflight.get(ip);
    if (pending !== undefined) return pending;
    const query = this.resolver.reverse(ip).then(
      (names) => names[0],
      () => undefined,
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, this.timeoutMs, undefined);
      timer.unref();
    });
    const p = Promise.race([query, deadline]).then((name) => {
      clearTimeout(timer);
      this.inflight.delete(ip);
      if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(ip, { name, expires: Date.now() + this.ttlMs });
      return name;
    });
    this.inflight.set(ip, p);
    return p;
  }
}
