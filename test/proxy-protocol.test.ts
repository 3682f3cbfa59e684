/** adapters/proxy/proxy-protocol.ts: the PROXY v1/v2 parser, spec examples and edge cases, whole and byte by byte. */
import { expect } from 'chai';
import { parseProxyHeader, V1_MAX_LENGTH, V2_MAX_LENGTH, type ProxyParse } from '../adapters/proxy/proxy-protocol.js';
import { tcp4, v2 } from './support/proxy-headers.js';

function done(r: ProxyParse) {
  expect(r.state, JSON.stringify(r)).to.equal('done');
  return (r as Extract<ProxyParse, { state: 'done' }>).header;
}
function error(r: ProxyParse): string {
  expect(r.state, JSON.stringify(r)).to.equal('error');
  return (r as Extract<ProxyParse, { state: 'error' }>).reason;
}

/** Every proper prefix answers `more`, the whole answers the same as at once. */
function incremental(buf: Buffer, upTo = buf.length): void {
  for (let i = 0; i < upTo; i++) expect(parseProxyHeader(buf.subarray(0, i)).state, `prefix of ${i} bytes`).to.equal('more');
}

describe('PROXY protocol parser', () => {
  describe('v1', () => {
    it('TCP4, with the proxied bytes after it untouched', () => {
      const line = 'PROXY TCP4 192.0.2.7 127.0.0.1 56324 8080\r\n';
      const h = done(parseProxyHeader(Buffer.from(line + 'GET / HTTP/1.1\r\n')));
      expect(h).to.deep.equal({ version: 1, length: line.length, addresses: { family: 'IPv4', sourceAddress: '192.0.2.7', sourcePort: 56324, destinationAddress: '127.0.0.1', destinationPort: 8080 } });
      incremental(Buffer.from(line));
    });
    it('TCP6', () => {
      const h = done(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 ::1 1 65535\r\n')));
      expect(h.addresses).to.deep.include({ family: 'IPv6', sourceAddress: '2001:db8::1', sourcePort: 1, destinationPort: 65535 });
    });
    it('UNKNOWN, with or without the rest of the line: no addresses (the socket peer stands)', () => {
      expect(done(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).addresses).to.equal(null);
      expect(done(parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff::1 ::1 1 2\r\n'))).addresses).to.equal(null);
    });
    it('the longest line the spec allows (107 bytes, UNKNOWN with two IPv6 addresses) is accepted', () => {
      const a = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
      const line = `PROXY UNKNOWN ${a} ${a} 65535 65535\r\n`;
      expect(line.length).to.equal(V1_MAX_LENGTH);
      expect(done(parseProxyHeader(Buffer.from(line))).length).to.equal(107);
    });
    it('a line with no LF within 107 bytes is refused, not buffered further', () => {
      expect(error(parseProxyHeader(Buffer.from('PROXY UNKNOWN ' + 'x'.repeat(200))))).to.match(/longer than 107/);
    });
    const bad: [string, RegExp][] = [
      ['PROXY TCP4 192.0.2.7 127.0.0.1 56324 8080\n', /CRLF/],
      ['PROXY TCP4 192.0.2.7 127.0.0.1 56324\r\n', /5 fields/],
      ['PROXY TCP4  192.0.2.7 127.0.0.1 1 2\r\n', /5 fields/],
      ['PROXY TCP4 ::1 127.0.0.1 1 2\r\n', /not IPv4/],
      ['PROXY TCP6 127.0.0.1 ::1 1 2\r\n', /not IPv6/],
      ['PROXY TCP4 192.0.2.300 127.0.0.1 1 2\r\n', /not IPv4/],
      ['PROXY TCP6 fe80::1%0 ::1 1 2\r\n', /not IPv6/],
      ['PROXY TCP4 192.0.2.7 127.0.0.1 65536 2\r\n', /0-65535/],
      ['PROXY TCP4 192.0.2.7 127.0.0.1 01 2\r\n', /0-65535/],
      ['PROXY TCP4 192.0.2.7 127.0.0.1 -1 2\r\n', /0-65535/],
      ['PROXY UDP4 192.0.2.7 127.0.0.1 1 2\r\n', /not TCP4, TCP6 or UNKNOWN/],
      ['PROXY tcp4 192.0.2.7 127.0.0.1 1 2\r\n', /not TCP4/],
      ['PROXYTCP4\r\n', /must start with "PROXY "/],
      ['GET / HTTP/1.1\r\n', /first byte/],
      ['POST / HTTP/1.1\r\n', /must start with "PROXY "/],
    ];
    for (const [line, why] of bad) it(`refuses ${JSON.stringify(line)}`, () => expect(error(parseProxyHeader(Buffer.from(line)))).to.match(why));
  });

  describe('v2', () => {
    it('PROXY TCP4 (family 0x11), what follows kept', () => {
      const hdr = v2(1, 0x11, tcp4([192, 0, 2, 7], [127, 0, 0, 1], 56324, 8080));
      const h = done(parseProxyHeader(Buffer.concat([hdr, Buffer.from('GET /')])));
      expect(h).to.deep.equal({ version: 2, length: 28, addresses: { family: 'IPv4', sourceAddress: '192.0.2.7', sourcePort: 56324, destinationAddress: '127.0.0.1', destinationPort: 8080 } });
      incremental(hdr);
    });
    it('PROXY TCP6 (family 0x21), addresses in Node\'s compressed form', () => {
      const addr = Buffer.alloc(36);
      Buffer.from('20010db8000000000000000000000001', 'hex').copy(addr, 0);
      addr[31] = 1; // ::1
      addr.writeUInt16BE(4711, 32);
      addr.writeUInt16BE(443, 34);
      expect(done(parseProxyHeader(v2(1, 0x21, addr))).addresses).to.deep.equal({ family: 'IPv6', sourceAddress: '2001:db8::1', sourcePort: 4711, destinationAddress: '::1', destinationPort: 443 });
    });
    it('TLVs after the addresses are skipped whole, whatever they hold', () => {
      // PP2_TYPE_ALPN "h2", then a TLV whose own length lies (claims more than is there): never read.
      const tlv = Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32, 0xee, 0xff, 0xff, 0x00]);
      const hdr = v2(1, 0x11, tcp4([10, 0, 0, 1], [10, 0, 0, 2], 1, 2), tlv);
      const h = done(parseProxyHeader(Buffer.concat([hdr, Buffer.from('x')])));
      expect(h.length).to.equal(hdr.length);
      expect(h.addresses?.sourceAddress).to.equal('10.0.0.1');
    });
    it('LOCAL (a health check): no addresses, even when some are sent', () => {
      expect(done(parseProxyHeader(v2(0, 0x11, tcp4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)))).addresses).to.equal(null);
      expect(done(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)))).addresses).to.equal(null);
    });
    it('UNSPEC and UNIX sources: no addresses', () => {
      expect(done(parseProxyHeader(v2(1, 0x00, Buffer.alloc(0)))).addresses).to.equal(null);
      expect(done(parseProxyHeader(v2(1, 0x31, Buffer.alloc(216)))).addresses).to.equal(null);
    });
    it('the length limit: a header over it is refused as soon as its length is read', () => {
      const big = v2(1, 0x11, tcp4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), Buffer.alloc(V2_MAX_LENGTH));
      expect(error(parseProxyHeader(big.subarray(0, 16)))).to.match(/over the .*-byte limit/);
    });
    const bad: [string, () => Buffer, RegExp][] = [
      ['a version other than 2', () => v2(1, 0x11, tcp4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), undefined, 1), /version 1/],
      ['command 2', () => v2(2, 0x11, tcp4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)), /command 2/],
      ['an address block too short for TCP4', () => v2(1, 0x11, Buffer.alloc(8)), /shorter than 12/],
      ['an address block too short for TCP6', () => v2(1, 0x21, Buffer.alloc(20)), /shorter than 36/],
      ['an address block too short for UNIX', () => v2(1, 0x31, Buffer.alloc(100)), /shorter than 216/],
      ['UDP (transport 2)', () => v2(1, 0x12, tcp4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)), /not STREAM/],
      ['address family 4', () => v2(1, 0x41, Buffer.alloc(12)), /family 4/],
      ['a broken signature', () => Buffer.concat([Buffer.from('\r\n\r\n\0\r\nQUIX\n'), Buffer.alloc(4)]), /signature/],
    ];
    for (const [what, make, why] of bad) it(`refuses ${what}`, () => expect(error(parseProxyHeader(make()))).to.match(why));
    it('waits for the whole announced length (TLVs split across reads)', () => {
      const hdr = v2(1, 0x11, tcp4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), Buffer.alloc(300, 0xaa));
      incremental(hdr);
      expect(done(parseProxyHeader(hdr)).length).to.equal(hdr.length);
    });
  });
});
