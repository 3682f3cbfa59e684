/**
 * The benchmark's goal statistic (bench/measure.ts pairedRatio): the median of the per-round ratios, which a
 * drift of the machine between rounds does not move, beside the ratio of the medians, which it does.
 */
import { expect } from 'chai';
import { goalLine, pairedRatio, type BenchResult } from '../bench/measure.js';

const result = (name: string, rps: number[]): BenchResult => ({
  name,
  url: 'http://127.0.0.1:1/',
  runs: rps.map((r) => ({ rps: r, requests: r * 5, errors: 0 })),
  medianRps: [...rps].sort((a, b) => a - b)[rps.length >> 1],
  errors: 0,
});

describe('bench: paired ratios', () => {
  it('pairs rounds: a server 5% slower in every round is 0.95x however the machine drifts between rounds', () => {
    // The machine halves its speed after round 2; b's rounds straddle the drift differently from a's.
    const b = result('b', [40_000, 40_000, 20_000, 20_000, 40_000]);
    const a = result('a', [38_000, 38_000, 19_000, 19_000, 38_000]);
    const c = pairedRatio(a, b)!;
    expect(c.paired).to.be.closeTo(0.95, 1e-9);
    expect(c.rounds).to.have.length(5);
    // The drift falls on other rounds for each: the medians compare rounds from different spells.
    const b2 = result('b2', [40_000, 40_000, 40_000, 20_000, 20_000]);
    const a2 = result('a2', [38_000, 38_000, 19_000, 19_000, 19_000]);
    const c2 = pairedRatio(a2, b2)!;
    expect(c2.ofMedians).to.be.closeTo(0.475, 1e-9);
    expect(c2.paired).to.be.closeTo(0.95, 1e-9);
  });

  it('judges the goal on the paired median and says so', () => {
    const b = result('b', [100, 100, 100]);
    const a = result('a', [99, 101, 102]);
    expect(goalLine('a / b', pairedRatio(a, b), 1.0)).to.match(/^a \/ b: 1\.01x paired \(medians 1\.01x; rounds 0\.99 1\.01 1\.02\)  goal >= 1x: met$/);
    expect(goalLine('a / b', pairedRatio(a, b), 1.02)).to.match(/MISSED$/);
    expect(goalLine('cost', pairedRatio(a, b), 1.0, true)).to.match(/goal <= 1x: MISSED$/);
  });

  it('has no figure when a round lacks one (req/cpu-s without a pid)', () => {
    const b = result('b', [100, 100]);
    expect(pairedRatio(result('a', [100, 100]), b, (run) => run.reqPerCpuSec)).to.equal(undefined);
  });
});
