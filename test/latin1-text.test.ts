/**
 * adapters/latin1-text.ts: the interned strings and the "is this name new to the request" marks that the
 * FastCGI params parser and the SCGI head parser use instead of a lookup on the object they build. A mark
 * may only ever answer "look" wrongly, never "new": checked against reference parsers that use a Map, with
 * many names per request so that names share intern slots (4096 slots: ~300 names give several collisions).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { isTsgiError } from '../app-api/errors.js';
import { latin1Text, markName, newNameSet } from '../adapters/latin1-text.js';
import { encodeParams, parseParams } from '../adapters/fastcgi/params.js';
import { encodeScgiHead, parseBlock } from '../adapters/scgi/parse.js';
import { removedFromGateway } from '../gateway/core/environ.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? '0') || 300;

/** ~300 distinct short names, some HTTP_* (joined when repeated), some that removedFromGateway drops. */
const POOL = [
  ...Array.from({ length: 150 }, (_, i) => `V${i.toString(36)}`),
  ...Array.from({ length: 150 }, (_, i) => `HTTP_X_${i.toString(36)}`),
  'CONTENT_TYPE', 'HTTP_PROXY', 'constructor', 'toString',
];
const pairs = fc.array(fc.tuple(fc.constantFrom(...POOL), fc.constantFrom('', 'a', 'b', 'text/plain')), { maxLength: 400 });

/** What parseParams must answer, with a Map (no marks, no prototype): its documented rules. */
function referenceParams(list: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of list) {
    const prev = out.get(name);
    if (removedFromGateway(name, value)) out.delete(name);
    else if (prev === undefined) out.set(name, value);
    else if (name.startsWith('HTTP_')) out.set(name, prev + (name === 'HTTP_COOKIE' ? '; ' : ', ') + value);
    else out.set(name, value);
  }
  return Object.fromEntries(out);
}

describe('interned Latin-1 names and their marks (adapters/latin1-text.ts)', () => {
  it('markName: new once per name set, "look" for a repeat, new again in the next set', () => {
    const bytes = Buffer.from('REQUEST_METHODPATH_INFO', 'latin1');
    newNameSet();
    expect(latin1Text(bytes, 0, 14, true)).to.equal('REQUEST_METHOD');
    expect(markName()).to.equal(true);
    expect(latin1Text(bytes, 14, 23, true)).to.equal('PATH_INFO');
    expect(markName()).to.equal(true);
    latin1Text(bytes, 0, 14, true);
    expect(markName(), 'the same name again in the same set').to.equal(false);
    newNameSet();
    latin1Text(bytes, 0, 14, true);
    expect(markName()).to.equal(true);
    // Not interned (too long): always "look".
    const long = Buffer.alloc(100, 0x41);
    latin1Text(long, 0, 100, true);
    expect(markName()).to.equal(false);
  });

  it('FastCGI params: repeats are found whatever the slots, as a Map-based parser finds them', () => {
    fc.assert(
      fc.property(pairs, (list) => {
        expect(parseParams(encodeParams(list))).to.deep.equal(referenceParams(list));
      }),
      { numRuns: RUNS },
    );
  });

  it('SCGI head (strict: joinDuplicateHttpHeaders off): refused exactly when a name repeats', () => {
    fc.assert(
      fc.property(pairs, (list) => {
        const names = list.map(([n]) => n);
        const repeats = new Set(names).size !== names.length;
        let outcome: 'ok' | 'duplicate';
        try {
          const head = encodeScgiHead(0, list);
          const colon = head.indexOf(0x3a);
          parseBlock(head.subarray(colon + 1, head.length - 1), false);
          outcome = 'ok';
        } catch (err) {
          if (!isTsgiError(err, 'TSGI_ERR_PROTOCOL') || !/duplicate header/.test(err.message)) throw err;
          outcome = 'duplicate';
        }
        expect(outcome).to.equal(repeats ? 'duplicate' : 'ok');
      }),
      { numRuns: RUNS },
    );
  });
});
