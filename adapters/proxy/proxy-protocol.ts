/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt), versions 1 (text) and 2 (binary): the first
 * bytes a load balancer sends on a connection, naming the client it accepted. Pure and incremental: call
 * parseProxyHeader with everything read so far until it answers `done` or `error`.
 *
 * Written here rather than taken from npm: the packages found (proxy-protocol-js and the like) parse a
 * complete buffer and leave framing to the caller, while an accept-time reader needs exactly this
 * incremental answer (need more / header ends at byte N / refuse) with the spec's length limits, so that no
 * byte after the header is consumed and a peer cannot make the server buffer without bound.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** v2's 12-byte signature. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The spec's longest v1 line, CRLF included (`PROXY TCP6` with two full IPv6 addresses and ports). */
export const V1_MAX_LENGTH = 107;
/**
 * Longest v2 header accepted: the 16-byte fixed part plus addresses and TLVs. The spec allows 65535 bytes of
 * payload; HAProxy's TLVs (ALPN, authority, SSL details, unique id) fit in far less, and a limit keeps a
 * broken or hostile peer from making each connection buffer 64 KiB.
 */
export const V2_MAX_LENGTH = 16 + 4096;

/** The addresses a PROXY header carries. */
export interface ProxiedAddresses {
  family: 'IPv4' | 'IPv6';
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
}

/** What the header says. */
export interface ProxyHeader {
  version: 1 | 2;
  /**
   * The client, or null when the header names none: v1 `UNKNOWN`, v2 LOCAL (the proxy's own health check),
   * v2 UNSPEC or a unix-socket source. Then the socket peer stands.
   */
  addresses: ProxiedAddresses | null;
  /** Header length in bytes: what follows is the proxied protocol's first byte. */
  length: number;
}

/** Parser verdict. */
export type ProxyParse = { state: 'more' } | { state: 'done'; header: ProxyHeader } | { state: 'error'; reason: string };

const MORE: ProxyParse = { state: 'more' };
const err = (reason: string): ProxyParse => ({ state: 'error', reason });

/** Parse the PROXY header at the start of `buf` (all bytes read so far). */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (buf.length === 0) return MORE;
  if (buf[0] === 0x0d) return parseV2(buf);
  if (buf[0] === 0x50 /* P */) return parseV1(buf);
  return err(`not a PROXY protocol header (first byte 0x${buf[0].toString(16).padStart(2, '0')})`);
}

/** True when `buf` could still be (the start of) a PROXY header: for protocol=auto's sniffer. */
export function mayBeProxyHeader(buf: Buffer): boolean {
  const n = Math.min(buf.length, 12);
  if (buf[0] === 0x0d) return buf.compare(V2_SIGNATURE, 0, n, 0, n) === 0;
  const m = Math.min(buf.length, V1_PREFIX.length);
  return buf.compare(V1_PREFIX, 0, m, 0, m) === 0;
}

const PORT_RE = /^(0|[1-9]\d{0,4})$/;

function parseV1(buf: Buffer): ProxyParse {
  const m = Math.min(buf.length, V1_PREFIX.length);
  if (buf.compare(V1_PREFIX, 0, m, 0, m) !== 0) return err('not a PROXY protocol header (v1 must start with "PROXY ")');
  const lf = buf.indexOf(0x0a);
  if (lf === -1) return buf.length >= V1_MAX_LENGTH ? err(`v1 line longer than ${V1_MAX_LENGTH} bytes`) : MORE;
  if (lf + 1 > V1_MAX_LENGTH) return err(`v1 line longer than ${V1_MAX_LENGTH} bytes`);
  if (lf === 0 || buf[lf - 1] !== 0x0d) return err('v1 line does not end with CRLF');
  const line = buf.toString('latin1', V1_PREFIX.length, lf - 1);
  const length = lf + 1;
  // UNKNOWN: the receiver must ignore the rest of the line (the spec's own words).
  if (line === 'UNKNOWN' || line.startsWith('UNKNOWN ')) return { state: 'done', header: { version: 1, addresses: null, length } };
  const parts = line.split(' ');
  if (parts.length !== 5) return err(`v1 line ${JSON.stringify(line.slice(0, 120))} does not have 5 fields`);
  const [proto, src, dst, sport, dport] = parts;
  let family: 'IPv4' | 'IPv6';
  if (proto === 'TCP4') {
    if (!isIPv4(src) || !isIPv4(dst)) return err(`v1 TCP4 addresses ${JSON.stringify(`${src} ${dst}`)} are not IPv4`);
    family = 'IPv4';
  } else if (proto === 'TCP6') {
    // No zone index (`fe80::1%eth0`): it names an interface of the proxy's host, not a client address.
    if (!isIPv6(src) || !isIPv6(dst) || src.includes('%') || dst.includes('%')) return err(`v1 TCP6 addresses ${JSON.stringify(`${src} ${dst}`)} are not IPv6`);
    family = 'IPv6';
  } else return err(`v1 protocol ${JSON.stringify(proto.slice(0, 20))} is not TCP4, TCP6 or UNKNOWN`);
  if (!PORT_RE.test(sport) || !PORT_RE.test(dport) || Number(sport) > 65535 || Number(dport) > 65535) {
    return err(`v1 ports ${JSON.stringify(`${sport} ${dport}`.slice(0, 40))} are not 0-65535`);
  }
  // IPv6 in Node's own spelling (`::ffff:1.2.3.4` and `0:0::1` have several), so REMOTE_ADDR compares as text.
  const canon = family === 'IPv6' ? canonicalIpv6 : (a: string): string => a;
  return {
    state: 'done',
    header: { version: 1, length, addresses: { family, sourceAddress: canon(src), sourcePort: Number(sport), destinationAddress: canon(dst), destinationPort: Number(dport) } },
  };
}

/** IPv6 text in the compressed, lower-case form (the WHATWG URL serialisation, RFC 5952). */
function canonicalIpv6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/** IPv6 text from 16 bytes. */
function ipv6(buf: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(at + i).toString(16));
  return canonicalIpv6(groups.join(':'));
}

function parseV2(buf: Buffer): ProxyParse {
  const n = Math.min(buf.length, 12);
  if (buf.compare(V2_SIGNATURE, 0, n, 0, n) !== 0) return err('not a PROXY protocol header (bad v2 signature)');
  if (buf.length < 16) return MORE;
  const verCmd = buf[12];
  if (verCmd >> 4 !== 2) return err(`v2 version ${verCmd >> 4} is not 2`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return err(`v2 command ${cmd} is not LOCAL (0) or PROXY (1)`);
  const fam = buf[13];
  const payload = buf.readUInt16BE(14);
  const length = 16 + payload;
  if (length > V2_MAX_LENGTH) return err(`v2 header of ${length} bytes is over the ${V2_MAX_LENGTH}-byte limit`);
  if (buf.length < length) return MORE;
  // LOCAL: the proxy speaks for itself (health checks); the addresses, if any, are to be ignored.
  if (cmd === 0) return { state: 'done', header: { version: 2, addresses: null, length } };
  const af = fam >> 4;
  const transport = fam & 0x0f;
  if (af !== 0 && transport !== 1) return err(`v2 transport ${transport} is not STREAM (1)`);
  if (af === 1) {
    if (payload < 12) return err(`v2 TCP4 address block of ${payload} bytes is shorter than 12`);
    const src = `${buf[16]}.${buf[17]}.${buf[18]}.${buf[19]}`;
    const dst = `${buf[20]}.${buf[21]}.${buf[22]}.${buf[23]}`;
    // What follows the addresses up to `length` are TLVs: skipped whole, never interpreted.
    return { state: 'done', header: { version: 2, length, addresses: { family: 'IPv4', sourceAddress: src, sourcePort: buf.readUInt16BE(24), destinationAddress: dst, destinationPort: buf.readUInt16BE(26) } } };
  }
  if (af === 2) {
    if (payload < 36) return err(`v2 TCP6 address block of ${payload} bytes is shorter than 36`);
    return {
      state: 'done',
      header: { version: 2, length, addresses: { family: 'IPv6', sourceAddress: ipv6(buf, 16), sourcePort: buf.readUInt16BE(48), destinationAddress: ipv6(buf, 32), destinationPort: buf.readUInt16BE(50) } },
    };
  }
  if (af === 3) {
    if (payload < 216) return err(`v2 UNIX address block of ${payload} bytes is shorter than 216`);
    return { state: 'done', header: { version: 2, addresses: null, length } };
  }
  if (af === 0) return { state: 'done', header: { version: 2, addresses: null, length } };
  return err(`v2 address family ${af} is not UNSPEC, INET, INET6 or UNIX`);
}
