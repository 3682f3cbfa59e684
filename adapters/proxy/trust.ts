/**
 * Which peers are trusted proxies: `trustedProxies` parsed once into a predicate. Addresses and CIDRs
 * (IPv4 and IPv6) are compiled by proxy-addr (ipaddr.js underneath, the matcher Express uses for `trust
 * proxy`); its named sets `loopback`, `linklocal` and `uniquelocal` work too. `unix` trusts a peer on a
 * unix socket, which has no address: the HTTP front then reports REMOTE_ADDR ''.
 */
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';

/** The default: only this host's loopback addresses. */
export const DEFAULT_TRUSTED_PROXIES = '127.0.0.1,::1';

/** Distinct addresses whose answer compileTrust keeps. */
const TRUST_CACHE_MAX = 1024;

/** Whether a peer address ('' for a unix socket peer) is a trusted proxy. */
export type TrustPredicate = (address: string) => boolean;

/** Split `a, b c` into entries (commas and/or spaces separate them). */
export function splitList(raw: string): string[] {
  return raw.split(/[\s,]+/).filter((s) => s !== '');
}

/**
 * Compile a trusted-proxy list. Throws an Error naming the entry that is neither an address, a CIDR, a
 * proxy-addr set name nor `unix`.
 */
export function compileTrust(list: string | readonly string[]): TrustPredicate {
  const entries = typeof list === 'string' ? splitList(list) : [...list];
  const unix = entries.some((e) => e.toLowerCase() === 'unix');
  const ips = entries.filter((e) => e.toLowerCase() !== 'unix');
  for (const e of ips) {
    try {
      proxyaddr.compile(e);
    } catch {
      throw new Error(`${JSON.stringify(e)} is not an IP address, a CIDR (10.0.0.0/8, fd00::/8), loopback, linklocal, uniquelocal or unix`);
    }
  }
  const ipTrust = ips.length === 0 ? () => false : proxyaddr.compile(ips);
  // Answers by address text: parsing an address (ipaddr.js) was 40% of the rewrite's CPU (bench:proxy),
  // and a server sees few distinct peers and hops. Bounded, so a flood of distinct hops cannot grow it.
  const cache = new Map<string, boolean>();
  return (address) => {
    if (address === '') return unix;
    let ok = cache.get(address);
    if (ok !== undefined) return ok;
    // proxy-addr answers false for what is not an address; the check keeps "unknown"/"_hidden" cheap.
    ok = isIP(address) !== 0 && ipTrust(address, 0);
    if (cache.size < TRUST_CACHE_MAX) cache.set(address, ok);
    return ok;
  };
}
