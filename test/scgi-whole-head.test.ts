/**
 * parseWholeHead, the SCGI front's path for a head that arrives whole in the first read, must agree with the
 * incremental ScgiHeadParser on every input: the same head, headers and left-over bytes when it answers, the
 * same error when it throws, and null (hand over to the parser) whenever the parser would wait for more or
 * refuse the framing. Checked on nginx's bytes, on fixed edge cases and on random mutations (fast-check).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { isTsgiError } from '../app-api/errors.js';
import { encodeScgiHead, parseBlock, parseWholeHead, ScgiHeadParser, type KeepHeader } from '../adapters/scgi/parse.js';
import { CgiObject } from '../gateway/core/cgi-object.js';
import { nginxVars } from './support/scgi-client.js';

const LIMIT = 4096;
const dropEmptyType: KeepHeader = (name, value) => !(name === 'CONTENT_TYPE' && value === '');

type Outcome = { kind: 'head'; headers: Record<string, string>; contentLength: number; consumed: number; rest: string } | { kind: 'none' } | { kind: 'error'; code: string; message: string };

function outcome(run: () => ReturnType<typeof parseWholeHead>): Outcome {
  try {
    const r = run();
    if (r === null) return { kind: 'none' };
    return { kind: 'head', headers: { ...r.head.headers }, contentLength: r.head.contentLength, consumed: r.head.consumed, rest: r.rest.toString('latin1') };
  } catch (err) {
    if (!isTsgiError(err)) throw err;
    return { kind: 'error', code: err.code, message: err.message };
  }
}

/** What both make of `bytes` given in one chunk. */
function both(bytes: Buffer, keep?: KeepHeader): { whole: Outcome; parser: Outcome } {
  return {
    whole: outcome(() => parseWholeHead(bytes, LIMIT, true, keep)),
    parser: outcome(() => new ScgiHeadParser(LIMIT, true, keep).push(bytes)),
  };
}

/** The property: a head from the parser is the same head from parseWholeHead; otherwise null or the same error. */
function expectAgree(bytes: Buffer, keep?: KeepHeader): void {
  const { whole, parser } = both(bytes, keep);
  if (parser.kind === 'head') expect(whole, JSON.stringify(bytes.toString('latin1'))).to.deep.equal(parser);
  else if (whole.kind !== 'none') expect(whole, JSON.stringify(bytes.toString('latin1'))).to.deep.equal(parser);
}

describe('SCGI parseWholeHead (the one-read head path)', () => {
  it("parses nginx's GET head like the incremental parser and leaves the body bytes over", () => {
    const head = encodeScgiHead(5, nginxVars('POST', '/a?b=1', { CONTENT_TYPE: 'text/plain' }));
    const bytes = Buffer.concat([head, Buffer.from('hello')]);
    const { whole, parser } = both(bytes, dropEmptyType);
    expect(whole.kind).to.equal('head');
    expect(whole).to.deep.equal(parser);
    if (whole.kind !== 'head') return;
    expect(whole.headers.REQUEST_URI).to.equal('/a?b=1');
    expect(whole.contentLength).to.equal(5);
    expect(whole.consumed).to.equal(head.length);
    expect(whole.rest).to.equal('hello');
  });

  it('leaves out what `keep` refuses, as the parser does', () => {
    const bytes = encodeScgiHead(0, nginxVars('GET', '/', { CONTENT_TYPE: '' }));
    const { whole } = both(bytes, dropEmptyType);
    expect(whole.kind).to.equal('head');
    if (whole.kind === 'head') expect(whole.headers).to.not.have.property('CONTENT_TYPE');
    expectAgree(bytes, dropEmptyType);
  });

  it('hands a partial head or a bad frame to the parser (null), and throws the parser\'s error for a bad block', () => {
    const good = encodeScgiHead(0, nginxVars('GET', '/'));
    for (const cut of [0, 1, 2, 3, 4, good.length - 1]) expect(parseWholeHead(good.subarray(0, cut), LIMIT)).to.equal(null);
    const bad = [
      '0:,', // empty block
      '012:CONTENT_LENGTH,', // leading zero
      ':abc,', // no length
      'x:abc', // not a digit
      `${LIMIT + 1}:${'a'.repeat(LIMIT + 1)},`, // over the limit
      '99999999999999999999:', // absurd length
      `${'CONTENT_LENGTH\x000\x00SCGI\x001\x00'.length}:CONTENT_LENGTH\x000\x00SCGI\x001\x00;`, // ',' missing
    ];
    for (const text of bad) {
      expect(parseWholeHead(Buffer.from(text, 'latin1'), LIMIT), text).to.equal(null);
      expectAgree(Buffer.from(text, 'latin1'));
    }
    // A well-framed block with a bad header: the same TSGI_ERR_PROTOCOL error as the parser.
    const block = 'CONTENT_LENGTH\x000\x00';
    const noScgi = Buffer.from(`${block.length}:${block},`, 'latin1');
    const { whole, parser } = both(noScgi);
    expect(whole.kind).to.equal('error');
    expect(whole).to.deep.equal(parser);
  });

  it('parses into a CgiObject (as the SCGI front does) exactly what it parses into {}: its unset standard keys count as absent', () => {
    const into = (): Record<string, string> => new CgiObject() as Record<string, string>;
    /** The headers, or the error, with the keys left `undefined` dropped. */
    const parse = (bytes: Buffer, obj?: Record<string, string>): unknown => {
      try {
        const h = parseBlock(bytes, true, undefined, 0, bytes.length, obj).headers;
        return Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined));
      } catch (err) {
        return (err as Error).message;
      }
    };
    const block = (pairs: Array<[string, string]>): Buffer => {
      const head = encodeScgiHead(0, pairs);
      return head.subarray(head.indexOf(58) + 1, head.length - 1);
    };
    const cases: Array<Array<[string, string]>> = [
      Object.entries(nginxVars('GET', '/a', { HTTP_X_A: '1' })),
      [['REQUEST_METHOD', 'GET']], // most standard variables missing
      [['REQUEST_METHOD', 'GET'], ['REQUEST_METHOD', 'POST']], // a repeated standard name is still refused
      [['HTTP_X', 'a'], ['HTTP_X', 'b'], ['SERVER_NAME', 'h']], // a repeated HTTP_ name is still joined
      [['constructor', 'x'], ['SERVER_PORT', '80']],
    ];
    for (const pairs of cases) {
      const bytes = block(pairs);
      expect(parse(bytes, into()), JSON.stringify(pairs)).to.deep.equal(parse(bytes));
    }
    expect(parse(block([['REQUEST_METHOD', 'GET'], ['REQUEST_METHOD', 'POST']]), into())).to.be.a('string').that.includes('duplicate header');
    // A name that shares SERVER_NAME's slot in the intern table makes the parser look SERVER_NAME up (its
    // mark says "maybe seen"): the CgiObject's unset key must not count as a duplicate. Among 20,000 names a
    // few share that slot (4,096 slots).
    for (let i = 0; i < 20_000; i++) {
      const bytes = block([[`HTTP_Z${i}`, 'v'], ['SERVER_NAME', 'h']]);
      const got = parse(bytes, into());
      if (typeof got === 'string') expect.fail(`HTTP_Z${i} then SERVER_NAME: ${got}`);
    }
    const name = fc.constantFrom('REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'SERVER_NAME', 'REMOTE_ADDR', 'HTTP_HOST', 'HTTP_X', 'X');
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.string({ maxLength: 8 })), { maxLength: 10 }), (pairs) => {
        const bytes = block(pairs);
        expect(parse(bytes, into())).to.deep.equal(parse(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with the parser on random heads and their mutations', () => {
    const name = fc.stringMatching(/^[A-Z_]{1,12}$/);
    const vars = fc.array(fc.tuple(name, fc.string({ maxLength: 20 })), { maxLength: 8 });
    const head = fc.tuple(fc.nat(40), vars).map(([len, v]) => encodeScgiHead(len, v));
    const mutated = fc.tuple(head, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }), fc.nat(), fc.uint8Array({ maxLength: 50 })).map(([h, flips, cut, tail]) => {
      const b = Buffer.concat([h, Buffer.from(tail)]);
      for (const [at, byte] of flips) b[at % b.length] = byte;
      return b.subarray(0, b.length - (cut % 3 === 0 ? cut % b.length : 0));
    });
    fc.assert(
      fc.property(mutated, (bytes) => expectAgree(Buffer.from(bytes))),
      { numRuns: 3000 },
    );
  });
});
