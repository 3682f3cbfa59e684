/**
 * What a chain of trusted proxies says about a request: the client address (walking X-Forwarded-For or
 * Forwarded from the right, stopping at the first hop that is not a trusted proxy), the scheme, host, port
 * and prefix the client used. Pure: reads CGI variables, returns a verdict; rewrite.ts applies it.
 *
 * Strict on purpose, as a security boundary should be: a value tsgi must believe that is malformed, or two
 * headers that disagree (X-Forwarded-Proto `https, http`; X-Forwarded-For and Forwarded naming different
 * clients), is a `problem`, and the caller then believes nothing and keeps the socket peer. Entries left of
 * the first untrusted hop are never read: they are the client's own text, forged or not.
 */
import { isIP } from 'node:net';
import parseForwarded from 'forwarded-parse';
import { CGI_VAR, type ForwardedHeader } from './headers.js';
import type { TrustPredicate } from './trust.js';

/** What the trusted proxies say about the client side of the request. */
export interface ForwardedView {
  /** The client address. */
  remoteAddr: string;
  /** The client port, when a Forwarded `for=` names one. */
  remotePort?: string;
  /** The scheme the client used. */
  scheme?: 'http' | 'https';
  /** `host[:port]` the client asked for. */
  host?: string;
  /** The port the client connected to. */
  port?: string;
  /** The path prefix the proxy removed ('' for the root). */
  prefix?: string;
}

/** The verdict: believe `view`, or believe nothing because of `problem`. */
export type Verdict = { view: ForwardedView; problem?: undefined } | { view?: undefined; problem: string };

/** A `host[:port]` / `[v6]:port` authority, as RFC 3986 reg-name or IP literal. */
const HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?)(?::\d{1,5})?$/;
const PORT_RE = /^\d{1,5}$/;

function validPort(p: string): boolean {
  return PORT_RE.test(p) && Number(p) >= 1 && Number(p) <= 65535;
}

/** A header's comma-separated values, trimmed. */
function values(v: string): string[] {
  // One value (one proxy, the usual case): no split and no second array (about 100 ns of the ~1 us the
  // rewrite costs, timed in a loop over TrustedProxyDispatcher#rewrite).
  if (!v.includes(',')) return [v.trim()];
  return v.split(',').map((s) => s.trim());
}

/** The one value of a single-valued header; a problem when repeated with different values. */
function single(name: string, v: string): { value: string } | { problem: string } {
  if (!v.includes(',')) return { value: v.trim() };
  const all = values(v);
  const first = all[0];
  for (const x of all) if (x !== first) return { problem: `${name} has conflicting values ${JSON.stringify(v.slice(0, 200))}` };
  return { value: first };
}

/** An X-Forwarded-For entry: an address, IPv6 possibly in brackets. */
function xffAddress(entry: string): string | undefined {
  const a = entry.startsWith('[') && entry.endsWith(']') ? entry.slice(1, -1) : entry;
  return isIP(a) !== 0 ? a : undefined;
}

/** A Forwarded `for=` node (RFC 7239 6): `1.2.3.4`, `1.2.3.4:80`, `[v6]`, `[v6]:80`; undefined for `unknown`, `_obf`, junk. */
function forwardedNode(node: string): { addr: string; port?: string } | undefined {
  let addr = node;
  let port: string | undefined;
  if (node.startsWith('[')) {
    const end = node.indexOf(']');
    if (end === -1) return undefined;
    addr = node.slice(1, end);
    const rest = node.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      port = rest.slice(1);
    }
    if (isIP(addr) !== 6) return undefined;
  } else {
    const colon = node.indexOf(':');
    if (colon !== -1) {
      addr = node.slice(0, colon);
      port = node.slice(colon + 1);
    }
    if (isIP(addr) !== 4) return undefined;
  }
  // An obfuscated port (`_abc`) says nothing usable: keep the address, drop the port.
  if (port !== undefined && !validPort(port)) port = undefined;
  return { addr, port };
}

function scheme(name: string, v: string): 'http' | 'https' | { problem: string } {
  const s = v.toLowerCase();
  if (s === 'http' || s === 'https') return s;
  return { problem: `${name} ${JSON.stringify(v.slice(0, 100))} is not http or https` };
}

/** The value of forwarded header `h` when `trusted` lists it. A function, not a closure made per request. */
function trustedValue(cgi: Readonly<Record<string, string | undefined>>, trusted: ReadonlySet<ForwardedHeader>, h: ForwardedHeader): string | undefined {
  return trusted.has(h) ? cgi[CGI_VAR[h]] : undefined;
}

/**
 * Read the forwarded headers of `cgi` that `trusted` lists, for a request whose socket peer (REMOTE_ADDR as
 * the front set it) is a trusted proxy. The caller checks the peer first.
 */
export function readForwarded(cgi: Readonly<Record<string, string | undefined>>, peer: string, trusted: ReadonlySet<ForwardedHeader>, trust: TrustPredicate): Verdict {
  const view: ForwardedView = { remoteAddr: peer };

  const xff = trustedValue(cgi, trusted, 'x-forwarded-for');
  let xffClient: string | undefined;
  if (xff !== undefined) {
    const hops = values(xff);
    let client = peer;
    for (let i = hops.length - 1; i >= 0 && trust(client); i--) {
      const a = xffAddress(hops[i]);
      if (a === undefined) return { problem: `X-Forwarded-For hop ${JSON.stringify(hops[i].slice(0, 100))} is not an IP address` };
      client = a;
    }
    xffClient = client;
    view.remoteAddr = client;
  }

  const fwd = trustedValue(cgi, trusted, 'forwarded');
  if (fwd !== undefined) {
    let elements: Record<string, string>[];
    try {
      elements = parseForwarded(fwd);
    } catch (err) {
      return { problem: `Forwarded ${JSON.stringify(fwd.slice(0, 200))} is malformed (${(err as Error).message})` };
    }
    // Walk as for X-Forwarded-For; the element naming the client also carries what the client asked for.
    let client: { addr: string; port?: string } = { addr: peer };
    let at: Record<string, string> | undefined;
    for (let i = elements.length - 1; i >= 0 && trust(client.addr); i--) {
      const f = elements[i].for;
      const node = f === undefined ? undefined : forwardedNode(f);
      if (node === undefined) return { problem: `Forwarded element ${i + 1} has ${f === undefined ? 'no for=' : `for=${JSON.stringify(f.slice(0, 100))}, not an address`}` };
      client = node;
      at = elements[i];
    }
    if (xffClient !== undefined && xffClient !== client.addr) {
      return { problem: `X-Forwarded-For names client ${xffClient} but Forwarded names ${client.addr}` };
    }
    view.remoteAddr = client.addr;
    if (client.port !== undefined) view.remotePort = client.port;
    if (at?.proto !== undefined) {
      const s = scheme('Forwarded proto', at.proto);
      if (typeof s !== 'string') return s;
      view.scheme = s;
    }
    if (at?.host !== undefined) {
      if (!HOST_RE.test(at.host)) return { problem: `Forwarded host ${JSON.stringify(at.host.slice(0, 100))} is not a host[:port]` };
      view.host = at.host;
    }
  }

  const xfp = trustedValue(cgi, trusted, 'x-forwarded-proto');
  if (xfp !== undefined) {
    const one = single('X-Forwarded-Proto', xfp);
    if ('problem' in one) return one;
    const s = scheme('X-Forwarded-Proto', one.value);
    if (typeof s !== 'string') return s;
    if (view.scheme !== undefined && view.scheme !== s) return { problem: `X-Forwarded-Proto says ${s} but Forwarded says ${view.scheme}` };
    view.scheme = s;
  }

  const xfh = trustedValue(cgi, trusted, 'x-forwarded-host');
  if (xfh !== undefined) {
    const one = single('X-Forwarded-Host', xfh);
    if ('problem' in one) return one;
    if (!HOST_RE.test(one.value)) return { problem: `X-Forwarded-Host ${JSON.stringify(one.value.slice(0, 100))} is not a host[:port]` };
    if (view.host !== undefined && view.host.toLowerCase() !== one.value.toLowerCase()) return { problem: `X-Forwarded-Host says ${one.value} but Forwarded says ${view.host}` };
    view.host = one.value;
  }

  const xfport = trustedValue(cgi, trusted, 'x-forwarded-port');
  if (xfport !== undefined) {
    const one = single('X-Forwarded-Port', xfport);
    if ('problem' in one) return one;
    if (!validPort(one.value)) return { problem: `X-Forwarded-Port ${JSON.stringify(one.value.slice(0, 100))} is not a port 1-65535` };
    view.port = one.value;
  }

  const xfprefix = trustedValue(cgi, trusted, 'x-forwarded-prefix');
  if (xfprefix !== undefined) {
    const one = single('X-Forwarded-Prefix', xfprefix);
    if ('problem' in one) return one;
    const prefix = mountPrefix(one.value);
    if (prefix === undefined) return { problem: `X-Forwarded-Prefix ${JSON.stringify(one.value.slice(0, 100))} is not a path like /app` };
    view.prefix = prefix;
  }
  return { view };
}

/** A prefix as SCRIPT_NAME text: percent-decoded, leading `/`, no trailing `/`; undefined when unsafe. */
export function mountPrefix(raw: string): string | undefined {
  let p: string;
  try {
    p = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (p === '' || p === '/') return '';
  if (!p.startsWith('/') || /[\0-\x1f\x7f?#\\]/.test(p)) return undefined;
  p = p.replace(/\/+$/, '');
  // `..` or `.` segments would let the prefix name another application's path.
  if (p.split('/').some((seg) => seg === '..' || seg === '.') || p.includes('//')) return undefined;
  return p;
}
