/**
 * Who may read the status page and metrics: an allow-list of client addresses and subnets, checked against
 * REMOTE_ADDR (so a trusted reverse proxy's rewrite of REMOTE_ADDR is honoured, and an untrusted peer's
 * X-Forwarded-For is not). Default: loopback only, as Apache's `Require local` for server-status.
 */
import { BlockList, isIP } from 'node:net';
import { tsgiError } from '../../app-api/errors.js';

/** The default allow-list: IPv4 and IPv6 loopback. */
export const LOOPBACK_ONLY: readonly string[] = Object.freeze(['127.0.0.0/8', '::1']);

/** Decides whether a client address may see the status page. */
export interface AddressAllowList {
  /** True when `address` (REMOTE_ADDR, or a socket's remoteAddress) is allowed. */
  allows(address: string | undefined): boolean;
  /** The entries as given (for the docs and the status page). */
  readonly entries: readonly string[];
}

/** `::ffff:127.0.0.1` (a v4 client on a dual-stack socket) is checked as `127.0.0.1`. */
function unmap(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m !== null ? m[1] : address;
}

/**
 * Build an allow-list from entries: an address (`10.0.0.5`, `::1`), a subnet (`10.0.0.0/8`, `fd00::/8`),
 * or `*` for every client (only behind something else that restricts access). An empty list allows nobody.
 * Throws TSGI_ERR_CONFIG naming the entry when one is neither.
 */
export function allowList(entries: readonly string[] | string = LOOPBACK_ONLY): AddressAllowList {
  const list = (typeof entries === 'string' ? entries.split(',') : [...entries]).map((e) => e.trim()).filter((e) => e !== '');
  const blocks = new BlockList();
  let any = false;
  for (const entry of list) {
    if (entry === '*') {
      any = true;
      continue;
    }
    const slash = entry.indexOf('/');
    const addr = unmap(slash < 0 ? entry : entry.slice(0, slash));
    const family = isIP(addr);
    if (family === 0) throw tsgiError('TSGI_ERR_CONFIG', { where: 'statusAllow', problem: `'${entry}' is not an IP address or subnet`, fix: 'write e.g. 127.0.0.1, ::1, 10.0.0.0/8 or *' });
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash < 0) {
      blocks.addAddress(addr, type);
      continue;
    }
    const bits = Number(entry.slice(slash + 1));
    if (!/^\d+$/.test(entry.slice(slash + 1)) || bits > (family === 4 ? 32 : 128)) {
      throw tsgiError('TSGI_ERR_CONFIG', { where: 'statusAllow', problem: `'${entry}' has a bad prefix length`, fix: 'write e.g. 10.0.0.0/8 or fd00::/8' });
    }
    blocks.addSubnet(addr, bits, type);
  }
  return {
    entries: Object.freeze(list),
    allows(address: string | undefined): boolean {
      if (any) return true;
      if (address === undefined || address === '') return false;
      const a = unmap(address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')); // [::1], fe80::1%eth0
      const family = isIP(a);
      if (family === 0) return false; // a unix-socket client has no address: not on the list
      return blocks.check(a, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** An allow-list as given in options: entries (`'10.0.0.0/8, ::1'` or an array), a built list, or the default. */
export function toAllowList(allow: readonly string[] | string | AddressAllowList | undefined): AddressAllowList {
  if (allow === undefined || typeof allow === 'string' || Array.isArray(allow)) return allowList(allow as readonly string[] | string | undefined);
  return allow as AddressAllowList;
}
