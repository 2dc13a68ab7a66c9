import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cosine,
  isSimilarityName,
  jaccard,
  logLikelihoodRatio,
  rawCount,
  similarities,
  similarityNames,
} from '../../shared/reco/similarity.js';

/**
 * G² = 2 Σ k ln(k·N / (row · column)) over the four cells of the 2×2 table, written
 * directly (not in the entropy form the library uses).
 */
function gSquared(k11: number, k12: number, k21: number, k22: number): number {
  const total = k11 + k12 + k21 + k22;
  const cell = (k: number, row: number, col: number) => (k > 0 ? k * Math.log((k * total) / (row * col)) : 0);
  return (
    2 *
    (cell(k11, k11 + k12, k11 + k21) +
      cell(k12, k11 + k12, k12 + k22) +
      cell(k21, k21 + k22, k11 + k21) +
      cell(k22, k21 + k22, k12 + k22))
  );
}

/** A consistent table: 0 ≤ c ≤ min(n_i, n_j), n_i + n_j − c ≤ total. */
const tables = fc
  .record({
    c: fc.integer({ min: 0, max: 50 }),
    i: fc.integer({ min: 0, max: 50 }),
    j: fc.integer({ min: 0, max: 50 }),
    rest: fc.integer({ min: 0, max: 200 }),
  })
  .map(({ c, i, j, rest }) => ({ c, ni: c + i, nj: c + j, total: c + i + j + rest }));

describe('similarities at hand-computed values', () => {
  it('cosine is c / √(n_i · n_j)', () => {
    expect(cosine(2, 4, 9)).toBeCloseTo(1 / 3, 12);
    expect(cosine(3, 3, 3)).toBe(1);
    expect(cosine(1, 1, 100)).toBeCloseTo(0.1, 12);
  });

  it('jaccard is c / (n_i + n_j − c)', () => {
    expect(jaccard(2, 4, 5)).toBeCloseTo(2 / 7, 12);
    expect(jaccard(3, 3, 3)).toBe(1);
    expect(jaccard(1, 2, 2)).toBeCloseTo(1 / 3, 12);
  });

  it('the log-likelihood ratio is Dunning’s G² of the 2×2 table', () => {
    // both 10, i only 10, j only 10, neither 70: G² = 2 (10 ln 2.5 + 20 ln 0.625 + 70 ln 1.09375)
    const expected = 2 * (10 * Math.log(2.5) + 20 * Math.log(0.625) + 70 * Math.log(1.09375));
    expect(expected).toBeCloseTo(12.0714, 4);
    expect(logLikelihoodRatio(10, 20, 20, 100)).toBeCloseTo(expected, 10);
    // both 3, i only 1, j only 2, neither 4.
    expect(logLikelihoodRatio(3, 4, 5, 10)).toBeCloseTo(1.726092, 6);
  });

  it('the entropy form equals the direct G² whenever the association is positive', () => {
    fc.assert(
      fc.property(tables, ({ c, ni, nj, total }) => {
        const v = logLikelihoodRatio(c, ni, nj, total);
        if (c * total > ni * nj) expect(v).toBeCloseTo(gSquared(c, ni - c, nj - c, total - ni - nj + c), 8);
        else expect(v).toBe(0);
      }),
    );
  });

  it('raw count is the count, never negative', () => {
    expect(rawCount(3)).toBe(3);
    expect(rawCount(0)).toBe(0);
    expect(rawCount(-2)).toBe(0);
  });
});

describe('the log-likelihood ratio counts only positive association', () => {
  it('is 0 at exact independence (c · total = n_i · n_j)', () => {
    expect(logLikelihoodRatio(4, 20, 20, 100)).toBe(0);
    expect(logLikelihoodRatio(2, 4, 5, 10)).toBe(0);
  });

  it('is 0 for negative association, though G² itself is large there', () => {
    expect(gSquared(1, 49, 49, 1)).toBeGreaterThan(50);
    expect(logLikelihoodRatio(1, 50, 50, 100)).toBe(0);
    expect(logLikelihoodRatio(0, 50, 50, 100)).toBe(0);
  });

  it('stays finite and non-negative when a bounded count leaves c above n_i', () => {
    const v = logLikelihoodRatio(5, 4, 10, 50);
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThan(0);
  });

  it('grows with the co-occurrence count at fixed margins', () => {
    expect(logLikelihoodRatio(8, 20, 20, 100)).toBeGreaterThan(logLikelihoodRatio(6, 20, 20, 100));
  });
});

describe('every similarity', () => {
  it('is symmetric in i and j', () => {
    fc.assert(
      fc.property(tables, ({ c, ni, nj, total }) => {
        for (const name of similarityNames) {
          // The entropy form sums in a different order when i and j swap: equal up to rounding.
          const a = similarities[name](c, ni, nj, total);
          const b = similarities[name](c, nj, ni, total);
          expect(Math.abs(a - b), name).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a)));
        }
      }),
    );
  });

  it('is 0 without co-occurrence and non-negative always', () => {
    fc.assert(
      fc.property(tables, ({ c, ni, nj, total }) => {
        for (const name of similarityNames) {
          expect(similarities[name](0, ni, nj, total), name).toBe(0);
          expect(similarities[name](c, ni, nj, total), name).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });

  it('cosine and jaccard are at most 1 on consistent tables', () => {
    fc.assert(
      fc.property(tables, ({ c, ni, nj }) => {
        expect(cosine(c, ni, nj)).toBeLessThanOrEqual(1 + 1e-12);
        expect(jaccard(c, ni, nj)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('names are recognised', () => {
    expect(similarityNames).toEqual(['cosine', 'llr', 'jaccard', 'count']);
    for (const name of similarityNames) expect(isSimilarityName(name)).toBe(true);
    expect(isSimilarityName('pearson')).toBe(false);
  });
});
