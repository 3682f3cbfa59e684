/**
 * parseParams reuses strings from a fixed-size table keyed by a hash of the bytes: whatever collides in the
 * table, every name and value must come out exactly as sent, on every call.
 */
import { expect } from 'chai';
import { encodeParams, parseParams } from '../adapters/fastcgi/params.js';

/** A deterministic pseudo-random generator (tests must not depend on luck). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

describe('FastCGI parseParams: interned strings', () => {
  it('returns exactly the bytes sent (as Latin-1) for thousands of distinct short names and values, repeated across calls', () => {
    const next = lcg(42);
    const pool: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const len = 1 + (next() % 64); // up to the interning limit: all of them go through the table
      let s = '';
      for (let j = 0; j < len; j++) s += String.fromCharCode(0x20 + (next() % 0xe0)); // ASCII and high Latin-1
      pool.push(s);
    }
    for (let call = 0; call < 400; call++) {
      const pairs: [string, string][] = [];
      const expected: Record<string, string> = {};
      for (let k = 0; k < 30; k++) {
        const name = 'X_' + pool[next() % pool.length];
        const value = pool[next() % pool.length];
        if (name in expected) continue;
        pairs.push([name, value]);
        expected[name] = value;
      }
      expect(parseParams(encodeParams(pairs))).to.deep.equal(expected);
    }
  });

  it('strings that differ in one byte, or only in length, stay apart', () => {
    const values = ['abc', 'abd', 'abcd', 'ab', 'Abc', 'ab\u00ff', 'ab\u0080'];
    for (let round = 0; round < 3; round++) {
      for (const v of values) expect(parseParams(encodeParams([['V', v]])).V).to.equal(v);
    }
  });
});
