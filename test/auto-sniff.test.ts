/** The protocol sniffer of protocol=auto, byte by byte: decided as early as possible, never guessed. */
import { expect } from 'chai';
import { sniffProtocol, SNIFF_MAX_BYTES, type Sniffed } from '../adapters/auto/sniff.js';
import { encodeScgiHead } from '../adapters/scgi/parse.js';

/** What the sniffer says after each prefix of `bytes`, collapsed to the first decision. */
function decide(bytes: Buffer): { verdict: Sniffed; after: number } {
  for (let n = 1; n <= bytes.length; n++) {
    const v = sniffProtocol(bytes.subarray(0, n));
    if (v !== 'more') return { verdict: v, after: n };
  }
  return { verdict: 'more', after: bytes.length };
}

const fcgiBegin = Buffer.from([1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
const fcgiGetValues = Buffer.from([1, 9, 0, 0, 0, 0, 0, 0]);

describe('protocol=auto sniffer', () => {
  const cases: Array<[string, Buffer, Sniffed, number]> = [
    ['FastCGI BEGIN_REQUEST', fcgiBegin, 'fastcgi', 2],
    ['FastCGI GET_VALUES (management record)', fcgiGetValues, 'fastcgi', 2],
    ['SCGI netstring', encodeScgiHead(0, { REQUEST_METHOD: 'GET' }), 'scgi', 3],
    ['HTTP/1.1 GET', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'http1', 4],
    ['HTTP/1.1 POST (starts with P like the h2 preface)', Buffer.from('POST /x HTTP/1.1\r\n'), 'http1', 5],
    ['HTTP/1.1 PRI that is not the h2 preface', Buffer.from('PRI * HTTP/1.1\r\n\r\n'), 'http1', 12],
    ['an extension method', Buffer.from('M-SEARCH * HTTP/1.1\r\n'), 'http1', 9],
    ['HTTP/2 prior knowledge', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04'), 'http2', 24],
    ['TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), 'tls', 2],
    ['FastCGI version 2', Buffer.from([2, 1, 0, 1]), 'unknown', 1],
    ['FastCGI version 1 with a STDIN record first', Buffer.from([1, 5, 0, 1]), 'unknown', 2],
    ['digits then garbage', Buffer.from('12x:'), 'unknown', 3],
    ['too many digits', Buffer.from('12345678901234:'), 'unknown', 11],
    ['a space first', Buffer.from(' GET /'), 'unknown', 1],
    ['a control byte in the method', Buffer.from('GE\x00T /'), 'unknown', 3],
    ['a method that never ends', Buffer.from('A'.repeat(40)), 'unknown', 21],
    ['an SSH banner', Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), 'unknown', 20],
  ];
  for (const [name, bytes, verdict, after] of cases) {
    it(`${name}: ${verdict} after ${after} byte(s)`, () => {
      expect(decide(bytes)).to.deep.equal({ verdict, after });
    });
  }

  it('never needs more than SNIFF_MAX_BYTES to decide', () => {
    for (const [, bytes] of cases) {
      if (bytes.length >= SNIFF_MAX_BYTES) expect(sniffProtocol(bytes.subarray(0, SNIFF_MAX_BYTES))).to.not.equal('more');
    }
  });

  it('says more for nothing and for undecided prefixes', () => {
    expect(sniffProtocol(Buffer.alloc(0))).to.equal('more');
    expect(sniffProtocol(Buffer.from('123'))).to.equal('more');
    expect(sniffProtocol(Buffer.from('PRI * HTTP/2'))).to.equal('more');
    expect(sniffProtocol(Buffer.from([1]))).to.equal('more');
  });
});
