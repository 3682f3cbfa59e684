/**
 * Property-based fuzz of the reverse-proxy parsers (fast-check): the PROXY protocol v1/v2 parser and the
 * forwarded-header rules (X-Forwarded-*, RFC 7239 Forwarded through forwarded-parse). Bounded by default
 * (it runs inside `npm test`); for a long run:
 *
 *     npm run fuzz:proxy                           # PROXY_FUZZ_RUNS=20000 per property
 *     PROXY_FUZZ_RUNS=250000 npm run fuzz:proxy    # 4 properties: 1,000,000 inputs
 *
 * Every input is timed: the slowest one is printed with the counts, and an input over 1 s of CPU counts as a hang.
 */
import { isIP } from 'node:net';
import { expect } from 'chai';
import fc from 'fast-check';
import { TrustedProxyDispatcher } from '../adapters/proxy/dispatcher.js';
import { FORWARDED_CGI_VARS } from '../adapters/proxy/headers.js';
import { parseProxyHeader, V1_MAX_LENGTH, V2_MAX_LENGTH, V2_SIGNATURE, type ProxyParse } from '../adapters/proxy/proxy-protocol.js';
import { InlineDispatcher } from '../gateway/core/dispatch.js';
import { ErrorLog, MemoryLog } from '../gateway/core/log.js';
import { tcp4, v2 } from './support/proxy-headers.js';

const RUNS = Number(process.env.PROXY_FUZZ_RUNS ?? '0') || 1000;
const HANG_MS = 1000;
/** Inputs, hangs (an input that used over HANG_MS of CPU), the slowest input by CPU and by wall time. */
const stats = { inputs: 0, hangs: 0, slowestCpuMs: 0, slowestWallMs: 0 };

/**
 * Run `fn` on one input, timing it. A hang is counted on CPU time: on a shared machine a process can wait
 * a second for a core, which says nothing about the parser.
 */
function timed<T>(fn: () => T): T {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  try {
    return fn();
  } finally {
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    const wallMs = performance.now() - t0;
    stats.inputs++;
    if (cpuMs > stats.slowestCpuMs) stats.slowestCpuMs = cpuMs;
    if (wallMs > stats.slowestWallMs) stats.slowestWallMs = wallMs;
    if (cpuMs > HANG_MS) stats.hangs++;
  }
}

function checkVerdict(buf: Buffer, r: ProxyParse): void {
  expect(['more', 'done', 'error']).to.include(r.state);
  if (r.state === 'error') expect(r.reason).to.be.a('string').and.not.equal('');
  if (r.state !== 'done') return;
  const h = r.header;
  expect(h.length).to.be.at.most(buf.length);
  expect(h.length).to.be.at.most(h.version === 1 ? V1_MAX_LENGTH : V2_MAX_LENGTH);
  if (h.addresses !== null) {
    expect(isIP(h.addresses.sourceAddress), h.addresses.sourceAddress).to.not.equal(0);
    expect(isIP(h.addresses.destinationAddress)).to.not.equal(0);
    expect(h.addresses.sourcePort).to.be.within(0, 65535);
  }
}

/** Byte-level mutations of a valid header: flip, insert, delete, truncate. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat(), byte: fc.constant(0) }),
);
function mutate(buf: Buffer, ms: { op: string; at: number; byte: number }[]): Buffer {
  let b = Buffer.from(buf);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.op === 'flip' && b.length > 0) b[at] = m.byte;
    else if (m.op === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at)]);
    else if (m.op === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    else if (m.op === 'truncate') b = b.subarray(0, at);
  }
  return b;
}

const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6();
const port = fc.integer({ min: 0, max: 65535 });

/** Canonical text of an address, as Node writes it (compressed, lower-case IPv6). */
const canon = (a: string): string => (isIP(a) === 6 ? new URL(`http://[${a}]/`).hostname.slice(1, -1) : a);

/** A valid header and the client it names (undefined: not checked, v2 TCP6 from random bytes). */
const validHeader: fc.Arbitrary<{ buf: Buffer; src?: string; sport?: number }> = fc.oneof(
  fc.tuple(ipv4, ipv4, port, port).map(([s, d, sp, dp]) => ({ buf: Buffer.from(`PROXY TCP4 ${s} ${d} ${sp} ${dp}\r\n`), src: s, sport: sp })),
  fc.tuple(ipv6, ipv6, port, port).map(([s, d, sp, dp]) => ({ buf: Buffer.from(`PROXY TCP6 ${s} ${d} ${sp} ${dp}\r\n`), src: canon(s), sport: sp })),
  fc.tuple(ipv4, ipv4, port, port, fc.uint8Array({ maxLength: 64 })).map(([s, d, sp, dp, tlv]) => ({
    buf: v2(1, 0x11, tcp4(s.split('.').map(Number), d.split('.').map(Number), sp, dp), Buffer.from(tlv)),
    src: s,
    sport: sp,
  })),
  fc.uint8Array({ minLength: 36, maxLength: 36 }).map((a) => ({ buf: v2(1, 0x21, Buffer.from(a)) })),
);

describe('proxy fuzz', function () {
  this.timeout(0);

  after(() => {
    console.log(`      proxy fuzz: ${stats.inputs} inputs, ${stats.hangs} hangs (> ${HANG_MS} ms CPU), slowest input ${stats.slowestCpuMs.toFixed(2)} ms CPU, ${stats.slowestWallMs.toFixed(2)} ms wall`);
  });

  it(`PROXY parser, random and mutated bytes: a verdict, never a throw; a header ends where it says (${RUNS} runs)`, () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 160 }).map((a) => Buffer.from(a)),
      fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.concat([Buffer.from('PROXY '), Buffer.from(a)])),
      fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 300 })).map(([vc, fam, len, rest]) => {
        const l = Buffer.alloc(2);
        l.writeUInt16BE(len);
        return Buffer.concat([V2_SIGNATURE, Buffer.from([vc, fam]), l, Buffer.from(rest)]);
      }),
      fc.tuple(validHeader, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([h, ms]) => mutate(h.buf, ms)),
    );
    fc.assert(
      fc.property(bytes, fc.nat(), (buf, cut) => {
        timed(() => {
          const r = parseProxyHeader(buf);
          checkVerdict(buf, r);
          if (r.state === 'done') {
            // The same header from exactly its own bytes; any shorter prefix is still waiting for more.
            expect(parseProxyHeader(buf.subarray(0, r.header.length))).to.deep.equal(r);
            const p = cut % r.header.length;
            expect(parseProxyHeader(buf.subarray(0, p)).state, `prefix ${p}`).to.equal('more');
          }
        });
      }),
      { numRuns: RUNS },
    );
  });

  it(`PROXY parser, valid headers (v1 TCP4/TCP6, v2 with random TLVs): the addresses sent come back (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(validHeader, fc.uint8Array({ maxLength: 32 }), (h, after) => {
        timed(() => {
          const r = parseProxyHeader(Buffer.concat([h.buf, Buffer.from(after)]));
          expect(r.state).to.equal('done');
          if (r.state !== 'done') return;
          expect(r.header.length).to.equal(h.buf.length);
          if (h.src !== undefined) expect(r.header.addresses).to.include({ sourceAddress: h.src, sourcePort: h.sport });
        });
      }),
      { numRuns: RUNS },
    );
  });

  // Forwarded-header text: addresses, junk, and the separators the parsers care about.
  const token = fc.oneof(ipv4, ipv6.map((a) => `[${a}]`), ipv6, fc.constantFrom('unknown', '_hidden', 'https', 'http', 'HTTPS', 'ftp', '/app', '/a/../b', '%2e%2e', 'example.test:8443', '[::1]:80', '"', ';', ',', '=', 'for=', 'proto=', 'host=', ' ', ''), fc.string({ maxLength: 12 }));
  const headerValue = fc.array(token, { maxLength: 8 }).map((ts) => ts.join(''));
  const pair = fc.tuple(fc.constantFrom('for', 'proto', 'host', 'by', 'x'), token, fc.boolean(), fc.constantFrom(';', ', ', ','));
  const forwardedValue = fc.array(pair, { maxLength: 4 }).map((ps) => ps.map(([k, v, q, sep], i) => `${i > 0 ? sep : ''}${k}=${q ? `"${v}"` : v}`).join(''));

  const dispatchers = ['127.0.0.1', '127.0.0.1,10.0.0.0/8,::1', 'unix,loopback', ''].map((trustedProxies) => {
    const log = new ErrorLog(new MemoryLog());
    return new TrustedProxyDispatcher(new InlineDispatcher(() => [], { log }), {
      trustedProxies,
      trustedProxyHeaders: 'x-forwarded-for,x-forwarded-proto,x-forwarded-host,x-forwarded-port,x-forwarded-prefix,forwarded',
      log,
    });
  });

  it(`forwarded headers, random values from random peers: never a throw; REMOTE_ADDR an address or the peer; untrusted peers keep none (${RUNS} runs)`, () => {
    const cgi = fc.record({
      peer: fc.constantFrom('127.0.0.1', '127.0.0.2', '10.1.2.3', '::1', '', '203.0.113.9'),
      d: fc.nat({ max: dispatchers.length - 1 }),
      HTTP_X_FORWARDED_FOR: fc.option(headerValue, { nil: undefined }),
      HTTP_X_FORWARDED_PROTO: fc.option(headerValue, { nil: undefined }),
      HTTP_X_FORWARDED_HOST: fc.option(headerValue, { nil: undefined }),
      HTTP_X_FORWARDED_PORT: fc.option(headerValue, { nil: undefined }),
      HTTP_X_FORWARDED_PREFIX: fc.option(headerValue, { nil: undefined }),
      HTTP_FORWARDED: fc.option(fc.oneof(forwardedValue, headerValue), { nil: undefined }),
    });
    fc.assert(
      fc.property(cgi, (c) => {
        timed(() => {
          let vars: Record<string, string> = { REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/', REMOTE_ADDR: c.peer, REMOTE_PORT: '1234', HTTP_HOST: 'app.test', SERVER_NAME: 'app.test', SERVER_PORT: '80' };
          for (const v of FORWARDED_CGI_VARS) {
            const value = (c as unknown as Record<string, string | undefined>)[v];
            if (value !== undefined) vars[v] = value;
          }
          const d = dispatchers[c.d];
          vars = d.rewrite(vars) as Record<string, string>;
          const trusted = vars['tsgi.proxy_addr'] !== undefined;
          expect(vars.REMOTE_ADDR === c.peer || isIP(vars.REMOTE_ADDR) !== 0, vars.REMOTE_ADDR).to.equal(true);
          if (trusted) expect(vars['tsgi.proxy_addr']).to.equal(c.peer);
          else expect(vars.REMOTE_ADDR).to.equal(c.peer);
          if (!trusted) for (const v of FORWARDED_CGI_VARS) expect(vars, v).to.not.have.property(v);
          expect(vars.HTTPS === undefined || vars.HTTPS === 'on').to.equal(true);
          expect(vars.SCRIPT_NAME === '' || (vars.SCRIPT_NAME.startsWith('/') && !vars.SCRIPT_NAME.split('/').includes('..'))).to.equal(true);
          expect(/^\d{1,5}$/.test(vars.SERVER_PORT), vars.SERVER_PORT).to.equal(true);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it(`Forwarded (RFC 7239) from a trusted peer, grammar-shaped values: never a throw (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(forwardedValue, fc.array(forwardedValue, { maxLength: 3 }), (first, more) => {
        timed(() => {
          let vars: Record<string, string> = { REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/', REMOTE_ADDR: '127.0.0.1', SERVER_PORT: '80', HTTP_FORWARDED: [first, ...more].join(', ') };
          vars = dispatchers[1].rewrite(vars) as Record<string, string>;
          expect(vars.REMOTE_ADDR === '127.0.0.1' || isIP(vars.REMOTE_ADDR) !== 0).to.equal(true);
        });
      }),
      { numRuns: RUNS },
    );
  });
});
