/** Parsers of the reverse-proxy options (trustedProxies, trustedProxyHeaders): validated once, at load time. */
import { compileTrust, splitList } from '../../adapters/proxy/trust.js';
import { parseTrustedHeaders } from '../../adapters/proxy/headers.js';
import { BadValue } from './values.js';

/** `trustedProxies`: addresses, CIDRs, proxy-addr set names and `unix`, normalised to `a,b,c`. */
export function parseTrustedProxies(raw: string): string {
  try {
    compileTrust(raw);
  } catch (err) {
    throw new BadValue(`must be a comma-separated list of addresses, CIDRs or unix: ${(err as Error).message}`);
  }
  return splitList(raw).join(',');
}

/** `trustedProxyHeaders`: a subset of the forwarded headers, normalised to lower case `a,b`; empty trusts none. */
export function parseTrustedProxyHeaders(raw: string): string {
  try {
    return [...parseTrustedHeaders(raw)].join(',');
  } catch (err) {
    throw new BadValue(`must be a comma-separated list: ${(err as Error).message}`);
  }
}
