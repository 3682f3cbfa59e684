/**
 * What `tsgi check` can tell from the INI file and the front alone, before any request: a front that cannot
 * serve the listener, a front tsgi will not trust, forwarded headers tsgi will not read.
 */
import { compileTrust } from '../../adapters/proxy/trust.js';
import type { CheckTarget, Finding, FrontRenderer } from './types.js';

/** The address a front on this host connects to tsgi from ('' for a unix socket), or undefined when unknown. */
export function frontPeer(t: CheckTarget): string | undefined {
  if (t.upstream.kind === 'unix') return '';
  if (t.upstream.host === '::1') return '::1';
  if (/^127\./.test(t.upstream.host)) return '127.0.0.1';
  return undefined;
}

/** Findings from the config alone. */
export function staticFindings(t: CheckTarget, front: FrontRenderer): Finding[] {
  const out: Finding[] = [];
  const cannot = front.cannotServe(t);
  if (cannot !== undefined) out.push({ level: 'error', text: cannot });
  // The peer matters where tsgi reads the client from it: forwarded headers (http) or a PROXY header.
  const peerMatters = t.protocol === 'http' || t.proxyProtocol;
  if (!peerMatters) return out;
  const peer = frontPeer(t);
  const what = t.proxyProtocol ? 'its PROXY header' : 'its forwarded headers';
  if (peer === undefined) {
    out.push({ level: 'warn', text: `proxy trust: tsgi listens on ${t.upstream.kind === 'tcp' ? t.upstream.host : ''}, so the front may be on another host: its address must be in trustedProxies (now ${t.trustedProxies}) or ${what} are ignored` });
  } else if (!compileTrust(t.trustedProxies)(peer)) {
    out.push({ level: 'error', text: `proxy not trusted: the front connects from ${peer === '' ? 'a unix socket' : peer}, which is not in trustedProxies (${t.trustedProxies}) of ${t.section}, so tsgi ignores ${what} and REMOTE_ADDR is the front's; add ${peer === '' ? 'unix' : peer} to trustedProxies` });
  } else {
    out.push({ level: 'ok', text: `proxy trust: the front connects from ${peer === '' ? 'a unix socket' : peer}, in trustedProxies (${t.trustedProxies})` });
  }
  if (!t.proxyProtocol && !t.trustedHeaders.has('x-forwarded-for') && !t.trustedHeaders.has('forwarded')) {
    out.push({ level: 'warn', text: `forwarded headers: trustedProxyHeaders of ${t.section} names neither x-forwarded-for nor forwarded, so REMOTE_ADDR is the front's address, never the client's; add x-forwarded-for` });
  }
  return out;
}
