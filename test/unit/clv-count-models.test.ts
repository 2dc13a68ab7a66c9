import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectedPurchases,
  expectedPurchasesNew,
  fitCountModel,
  logLikelihood,
  memberLogLikelihood,
  pAlive,
  probabilityOfPurchases,
  type CountModel,
  type CountParams,
  type Rfm,
} from '../../shared/clv/count-models.js';
import { hyp2f1, lbeta, lgamma } from '../../shared/clv/special.js';
import { loadCdnowSummary } from './clv-data.js';

const cdnow = loadCdnowSummary(); // 2357 CDNOW customers, weeks (FHL 2005 §5)

// Fader, Hardie & Lee (2005), Marketing Science 24(2), p. 280: BG/NBD estimates on this sample and
// LL = −9582.4; the same numbers are lifetimes' tests/test_estimation.py
// TestBetaGeoFitter.test_params_out_is_close_to_Hardie_paper.
const PUBLISHED_BG: CountParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const PUBLISHED_BG_LL = -9582.4;
// BTYDplus (github.com/mplatzer/BTYDplus) MBG/NBD estimates on CDNOW, as quoted in lifetimes'
// tests/test_estimation.py TestModifiedBetaGammaFitter.test_params_out_is_close_to_BTYDplus.
const BTYDPLUS_MBG: CountParams = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };

const bgFit = fitCountModel('bgnbd', cdnow);
const mbgFit = fitCountModel('mbgnbd', cdnow);

function expectParamsNear(actual: CountParams, expected: CountParams, tol: number): void {
  for (const key of ['r', 'alpha', 'a', 'b'] as const) {
    expect(Math.abs(actual[key] - expected[key]), `${key}: ${actual[key]} vs ${expected[key]}`).toBeLessThanOrEqual(
      tol,
    );
  }
}

const paramsArb = fc.record({
  r: fc.double({ min: 0.05, max: 5, noNaN: true }),
  alpha: fc.double({ min: 0.1, max: 100, noNaN: true }),
  a: fc.double({ min: 0.05, max: 5, noNaN: true }),
  b: fc.double({ min: 0.05, max: 10, noNaN: true }),
});
/** (x, t_x, T) with 0 ≤ t_x ≤ T and t_x = 0 when x = 0. */
const rfmArb = fc
  .record({
    x: fc.integer({ min: 0, max: 300 }),
    T: fc.double({ min: 0, max: 500, noNaN: true }),
    share: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ x, T, share }): Rfm => ({ x, T, tx: x === 0 ? 0 : T * share }));
const models: CountModel[] = ['bgnbd', 'mbgnbd'];

describe('BG/NBD on CDNOW', () => {
  it('reproduces the published log-likelihood at the published estimates', () => {
    expect(Math.abs(logLikelihood('bgnbd', PUBLISHED_BG, cdnow) - PUBLISHED_BG_LL)).toBeLessThan(0.1);
  });

  it('fits the published estimates to within 0.001', () => {
    expectParamsNear(bgFit.params, PUBLISHED_BG, 0.001);
    expect(Math.abs(bgFit.logLikelihood - PUBLISHED_BG_LL)).toBeLessThan(0.1);
    expect(bgFit).toMatchObject({ model: 'bgnbd', converged: true, members: 2357 });
    expect(bgFit.logLikelihood).toBeCloseTo(logLikelihood('bgnbd', bgFit.params, cdnow), 9);
    // A maximum: the published (rounded) point is not better.
    expect(bgFit.logLikelihood).toBeGreaterThanOrEqual(logLikelihood('bgnbd', PUBLISHED_BG, cdnow));
  });

  it("matches E[X(t)] from Hardie's BG/NBD spreadsheet (note 004)", () => {
    // lifetimes tests/test_estimation.py test_expectation_returns_same_value_Hardie_excel_sheet
    const times = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0];
    const expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576];
    times.forEach((t, i) =>
      expect(Math.abs(expectedPurchasesNew('bgnbd', bgFit.params, t) - (expected[i] as number))).toBeLessThan(0.001),
    );
  });

  it("matches the conditional expectation from Hardie's spreadsheet (note 004)", () => {
    // Customer 1 of the sample: x = 2, t_x = 30.43, T = 38.86; E[X(T, T+39)] = 1.226.
    // lifetimes test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet (tolerance 0.001).
    const value = expectedPurchases('bgnbd', bgFit.params, { x: 2, tx: 30.43, T: 38.86 }, 39);
    expect(Math.abs(value - 1.226)).toBeLessThan(0.001);
  });

  it('matches P(X(t) = n) from R BTYD (bgnbd.pmf) at the published estimates', () => {
    // lifetimes test_probability_of_n_purchases_up_to_time_same_as_R_BTYD.
    expect(Math.abs(probabilityOfPurchases('bgnbd', PUBLISHED_BG, 10, 2) / 1.07869e-7 - 1)).toBeLessThan(1e-5);
    expect(probabilityOfPurchases('bgnbd', PUBLISHED_BG, 0, 39)).toBeCloseTo(0.5737864, 7);
    const pmf30 = [
      0.0019995214, 0.0015170236, 0.001163315, 0.0009003148, 0.0007023638, 0.0005517902, 0.0004361913, 0.0003467171,
      0.0002769613, 0.000222226,
    ];
    pmf30.forEach((p, i) => expect(probabilityOfPurchases('bgnbd', PUBLISHED_BG, 11 + i, 30)).toBeCloseTo(p, 9));
  });
});

describe('MBG/NBD on CDNOW', () => {
  it('fits the BTYDplus estimates to within 0.001', () => {
    expectParamsNear(mbgFit.params, BTYDPLUS_MBG, 0.001);
    expect(mbgFit).toMatchObject({ model: 'mbgnbd', converged: true, members: 2357 });
    expect(mbgFit.logLikelihood).toBeCloseTo(logLikelihood('mbgnbd', mbgFit.params, cdnow), 9);
    expect(mbgFit.logLikelihood).toBeGreaterThanOrEqual(logLikelihood('mbgnbd', BTYDPLUS_MBG, cdnow));
  });

  it("is close to Hardie's BG/NBD spreadsheet values, as in lifetimes' MBG tests", () => {
    // lifetimes TestModifiedBetaGammaFitter: conditional expectation within 0.05 of 1.226 and
    // E[X(t)] within 5 % of the BG/NBD spreadsheet values (the models differ slightly).
    expect(
      Math.abs(expectedPurchases('mbgnbd', mbgFit.params, { x: 2, tx: 30.43, T: 38.86 }, 39) - 1.226),
    ).toBeLessThan(0.05);
    const times = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0];
    const expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576];
    times.forEach((t, i) => {
      const e = expected[i] as number;
      expect(Math.abs(expectedPurchasesNew('mbgnbd', mbgFit.params, t) - e) / e).toBeLessThan(0.05);
    });
  });

  it('gives P(alive) < 1 for x = 0, decreasing in T', () => {
    let previous = 1;
    for (const T of [0, 1, 5, 20, 39, 100]) {
      const p = pAlive('mbgnbd', mbgFit.params, { x: 0, tx: 0, T });
      expect(p).toBeLessThan(previous);
      previous = p;
    }
    // At T = 0: 1/(1 + a/b), the chance of not dropping out right after the first purchase.
    const { a, b } = mbgFit.params;
    expect(pAlive('mbgnbd', mbgFit.params, { x: 0, tx: 0, T: 0 })).toBeCloseTo(b / (a + b), 14);
  });
});

describe('likelihood', () => {
  /** The two-term individual likelihood written out directly (FHL 2005; Batislam et al. 2007). */
  function directLikelihood(model: CountModel, p: CountParams, m: Rfm): number {
    const { r, alpha, a, b } = p;
    const { x, tx, T } = m;
    const nbd = (t: number) =>
      Math.exp(lgamma(r + x) - lgamma(r) + r * Math.log(alpha) - (r + x) * Math.log(alpha + t));
    const beta = (u: number, v: number) => Math.exp(lbeta(u, v) - lbeta(a, b));
    if (model === 'bgnbd') return beta(a, b + x) * nbd(T) + (x > 0 ? beta(a + 1, b + x - 1) * nbd(tx) : 0);
    return beta(a, b + x + 1) * nbd(T) + beta(a + 1, b + x) * nbd(tx);
  }

  it('equals the written-out two-term likelihood', () => {
    fc.assert(
      fc.property(paramsArb, rfmArb, fc.constantFrom(...models), (p, m, model) => {
        const direct = directLikelihood(model, p, m);
        fc.pre(direct > 1e-250 && Number.isFinite(direct));
        expect(Math.abs(memberLogLikelihood(model, p, m) - Math.log(direct))).toBeLessThan(
          1e-10 * (1 + Math.abs(Math.log(direct))),
        );
      }),
    );
  });

  it('is a sum over members', () => {
    const some = cdnow.slice(0, 50);
    const sum = some.reduce((s, m) => s + memberLogLikelihood('mbgnbd', PUBLISHED_BG, m), 0);
    expect(logLikelihood('mbgnbd', PUBLISHED_BG, some)).toBeCloseTo(sum, 10);
  });

  it('stays finite for heavy buyers', () => {
    for (const model of models)
      expect(Number.isFinite(memberLogLikelihood(model, PUBLISHED_BG, { x: 5000, tx: 90, T: 100 }))).toBe(true);
  });
});

describe('P(alive)', () => {
  it('is exactly 1 under BG/NBD when there was no repeat purchase', () => {
    // lifetimes test_conditional_probability_alive_returns_1_if_no_repeat_purchases
    for (const T of [0, 1, 38.86, 1e6]) expect(pAlive('bgnbd', bgFit.params, { x: 0, tx: 0, T })).toBe(1);
  });

  it('is 0, not NaN, for x = 1000, t_x = 10, T = 100', () => {
    // lifetimes test_no_runtime_warnings_high_frequency
    for (const model of models) expect(pAlive(model, bgFit.params, { x: 1000, tx: 10, T: 100 })).toBe(0);
  });

  it('matches the closed form for a CDNOW customer', () => {
    // 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)) for customer 1 (Hardie note 021).
    const { r, alpha, a, b } = PUBLISHED_BG;
    const expected = 1 / (1 + (a / (b + 1)) * ((alpha + 38.86) / (alpha + 30.43)) ** (r + 2));
    expect(pAlive('bgnbd', PUBLISHED_BG, { x: 2, tx: 30.43, T: 38.86 })).toBeCloseTo(expected, 14);
  });

  it('lies in [0, 1] and does not increase with T', () => {
    fc.assert(
      fc.property(
        paramsArb,
        rfmArb,
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.constantFrom(...models),
        (p, m, extra, model) => {
          const now = pAlive(model, p, m);
          const later = pAlive(model, p, { ...m, T: m.T + extra });
          expect(now).toBeGreaterThanOrEqual(0);
          expect(now).toBeLessThanOrEqual(1);
          expect(later).toBeLessThanOrEqual(now);
        },
      ),
    );
  });
});

describe('expected purchases', () => {
  it('equals the textbook form with the untransformed 2F1 (FHL 2005 eq. 10; lifetimes MBG/NBD)', () => {
    fc.assert(
      fc.property(
        paramsArb,
        rfmArb,
        fc.double({ min: 0.01, max: 200, noNaN: true }),
        fc.constantFrom(...models),
        (p, m, t, model) => {
          fc.pre(m.x <= 30 && Math.abs(p.a - 1) > 0.01);
          const { r, alpha, a, b } = p;
          const { x, T } = m;
          const z = t / (alpha + T + t);
          const lead = model === 'bgnbd' ? a + b + x - 1 : a + b + x;
          const f = model === 'bgnbd' ? hyp2f1(r + x, b + x, a + b + x - 1, z) : hyp2f1(r + x, b + x + 1, a + b + x, z);
          const textbook =
            (lead / (a - 1)) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * f) * pAlive(model, p, m);
          const ours = expectedPurchases(model, p, m, t);
          expect(Math.abs(ours - textbook)).toBeLessThanOrEqual(1e-9 * Math.abs(textbook) + 1e-12);
        },
      ),
    );
  });

  it('for a new member is the mean of P(X(t) = n), which sums to 1', () => {
    for (const model of models) {
      const p = model === 'bgnbd' ? bgFit.params : mbgFit.params;
      for (const t of [1, 39, 78]) {
        let total = 0;
        let mean = 0;
        for (let n = 0; n <= 1500; n++) {
          const pn = probabilityOfPurchases(model, p, n, t);
          total += pn;
          mean += n * pn;
        }
        expect(total).toBeCloseTo(1, 12);
        expect(mean / expectedPurchasesNew(model, p, t) - 1).toBeCloseTo(0, 10);
      }
    }
  });

  it('is 0 at t = 0, finite for heavy buyers and long horizons, and continuous across a = 1', () => {
    for (const model of models) {
      expect(expectedPurchases(model, bgFit.params, { x: 3, tx: 10, T: 20 }, 0)).toBe(0);
      const heavy = expectedPurchases(model, bgFit.params, { x: 2000, tx: 99, T: 100 }, 52);
      expect(Number.isFinite(heavy) && heavy > 0).toBe(true);
      expect(Number.isFinite(expectedPurchasesNew(model, bgFit.params, 1e4))).toBe(true);
      const m = { x: 4, tx: 20, T: 30 };
      const at1 = expectedPurchases(model, { ...bgFit.params, a: 1 }, m, 26);
      const near = expectedPurchases(model, { ...bgFit.params, a: 1 + 1e-4 }, m, 26);
      expect(Math.abs(at1 - near)).toBeLessThan(1e-4 * at1);
    }
  });

  it('scales with the time unit: weeks × 10 gives α × 10 and the same predictions', () => {
    // lifetimes test_scaling_inputs_gives_same_or_similar_results
    const scaled = fitCountModel(
      'bgnbd',
      cdnow.map((m) => ({ x: m.x, tx: m.tx * 10, T: m.T * 10 })),
    );
    expect(scaled.params.alpha / 10).toBeCloseTo(bgFit.params.alpha, 4);
    expect(scaled.params.r).toBeCloseTo(bgFit.params.r, 5);
    expect(pAlive('bgnbd', scaled.params, { x: 1, tx: 20, T: 100 })).toBeCloseTo(
      pAlive('bgnbd', bgFit.params, { x: 1, tx: 2, T: 10 }),
      5,
    );
  });

  it('shrinks all parameters with a penalizer', () => {
    // lifetimes test_penalizer_term_will_shrink_coefs_to_0 (same penalty: mean NLL + c·Σθ²).
    const penalised = fitCountModel('bgnbd', cdnow, { penalizer: 0.1 }).params;
    for (const key of ['r', 'alpha', 'a', 'b'] as const) expect(penalised[key]).toBeLessThan(bgFit.params[key]);
  });
});

describe('input checks', () => {
  it('rejects impossible members and parameters', () => {
    expect(() => pAlive('bgnbd', PUBLISHED_BG, { x: 1, tx: 5, T: 4 })).toThrow(RangeError);
    expect(() => pAlive('bgnbd', PUBLISHED_BG, { x: 0, tx: 2, T: 4 })).toThrow(RangeError);
    expect(() => pAlive('bgnbd', PUBLISHED_BG, { x: 1.5, tx: 2, T: 4 })).toThrow(RangeError);
    expect(() => memberLogLikelihood('bgnbd', { ...PUBLISHED_BG, a: -1 }, { x: 1, tx: 2, T: 4 })).toThrow(RangeError);
    expect(() => expectedPurchasesNew('bgnbd', PUBLISHED_BG, -1)).toThrow(RangeError);
    expect(() => fitCountModel('bgnbd', [])).toThrow(RangeError);
  });
});
