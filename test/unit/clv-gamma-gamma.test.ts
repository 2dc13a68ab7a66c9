import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectedPurchases, fitCountModel, type CountParams } from '../../shared/clv/count-models.js';
import {
  expectedAverageSpend,
  fitGammaGamma,
  lifetimeValue,
  spendLogLikelihood,
  type SpendParams,
} from '../../shared/clv/gamma-gamma.js';
import { loadCdnowSummaryWithSpend } from './clv-data.js';

const cdnow = loadCdnowSummaryWithSpend(); // 2357 customers, 946 with x > 0; zbar in US$
const buyers = cdnow.filter((m) => m.x > 0);

// Fader, Hardie & Lee (2005), "RFM and CLV", JMR 42(4), and Fader & Hardie note 025 ("The
// Gamma-Gamma Model of Monetary Value"): p = 6.25, q = 3.74, v = 15.44 on this sample. lifetimes'
// test_params_out_is_close_to_Hardie_paper checks them with decimal=2 (|difference| < 0.015).
const PUBLISHED: SpendParams = { p: 6.25, q: 3.74, v: 15.44 };
const fit = fitGammaGamma(cdnow);

describe('Gamma-Gamma on CDNOW', () => {
  it('fits the published estimates (to the 2-decimal tolerance of lifetimes)', () => {
    expect(Math.abs(fit.params.p - PUBLISHED.p)).toBeLessThan(0.015);
    expect(Math.abs(fit.params.q - PUBLISHED.q)).toBeLessThan(0.015);
    expect(Math.abs(fit.params.v - PUBLISHED.v)).toBeLessThan(0.015);
    expect(fit).toMatchObject({ converged: true, members: 946 });
    expect(fit.logLikelihood).toBeCloseTo(spendLogLikelihood(fit.params, buyers), 9);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(spendLogLikelihood(PUBLISHED, buyers));
  });

  it('ignores members without repeat purchases', () => {
    expect(fitGammaGamma(buyers).params).toEqual(fit.params);
    expect(spendLogLikelihood(PUBLISHED, cdnow)).toBe(spendLogLikelihood(PUBLISHED, buyers));
  });

  it("matches the expected average spend of Hardie's spreadsheet (note 025)", () => {
    // lifetimes test_conditional_expected_average_profit: first ten customers, atol 0.1 at the
    // rounded published parameters; at the fitted parameters all ten are within 0.01 (largest gap 0.009, customer 1).
    const expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17];
    cdnow.slice(0, 10).forEach((m, i) => {
      const e = expected[i] as number;
      expect(Math.abs(expectedAverageSpend(PUBLISHED, m) - e)).toBeLessThan(0.1);
      expect(Math.abs(expectedAverageSpend(fit.params, m) - e)).toBeLessThan(0.01);
    });
  });
});

describe('spend likelihood', () => {
  it('is a normalised density of zbar', () => {
    // ∫ f(zbar | x) dzbar = 1, by the trapezoid rule on a log grid (zbar = e^u, dzbar = e^u du).
    for (const x of [1, 3, 12]) {
      let integral = 0;
      const du = 0.001;
      for (let u = -15; u <= 15; u += du) {
        const zbar = Math.exp(u);
        integral += Math.exp(spendLogLikelihood(PUBLISHED, [{ x, zbar }])) * zbar * du;
      }
      expect(integral).toBeCloseTo(1, 6);
    }
  });

  it('rejects a missing spend for a buyer', () => {
    expect(() => spendLogLikelihood(PUBLISHED, [{ x: 2, zbar: 0 }])).toThrow(RangeError);
  });
});

describe('expected average spend', () => {
  it('is the credibility-weighted mix of the population mean pv/(q−1) and zbar', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 20, noNaN: true }),
        fc.double({ min: 1.1, max: 20, noNaN: true }),
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        fc.integer({ min: 0, max: 50 }),
        fc.double({ min: 0.01, max: 1000, noNaN: true }),
        (p, q, v, x, zbar) => {
          const weight = (p * x) / (p * x + q - 1);
          const mix = (1 - weight) * ((p * v) / (q - 1)) + weight * zbar;
          expect(expectedAverageSpend({ p, q, v }, { x, zbar })).toBeCloseTo(mix, 8);
        },
      ),
    );
  });

  it('refuses parameters with an infinite mean', () => {
    expect(() => expectedAverageSpend({ p: 1, q: 0.5, v: 1 }, { x: 0, zbar: 0 })).toThrow(RangeError);
  });
});

describe('lifetime value', () => {
  // lifetimes tests/test_utils.py test_customer_lifetime_value_with_known_values: a BG/NBD fitted
  // on lifetimes' example_transactions (days; parameters to 8 digits from PyMC-Marketing's copy of
  // the test, tests/clv/test_utils.py), the first five summary rows, spend 1 per purchase, one
  // month of 30 days (lifetimes' freq='D'), expected values to 5 decimals.
  const bg: CountParams = { r: 0.16385072, alpha: 1.86428187, a: 1.85034151, b: 3.18105431 };
  const rows = [
    { x: 0, tx: 0, T: 298 },
    { x: 0, tx: 0, T: 224 },
    { x: 6, tx: 142, T: 292 },
    { x: 0, tx: 0, T: 147 },
    { x: 2, tx: 9, T: 183 },
  ];
  const expected = [0.016053, 0.021171, 0.030461, 0.031686, 0.001607];
  // p = 1, q = 2, v = 1 and zbar = 1 give an expected spend of exactly 1 for every x.
  const unitSpend: SpendParams = { p: 1, q: 2, v: 1 };
  const clv = (i: number, months: number, rate: number) =>
    lifetimeValue(
      'bgnbd',
      bg,
      unitSpend,
      { ...(rows[i] as (typeof rows)[number]), zbar: 1 },
      { months, monthlyDiscountRate: rate, unitsPerMonth: 30 },
    );

  it('reproduces lifetimes for one month, undiscounted and at 100 %', () => {
    rows.forEach((_, i) => {
      const e = expected[i] as number;
      expect(clv(i, 1, 0)).toBeCloseTo(e, 5);
      expect(clv(i, 1, 1)).toBeCloseTo(e / 2, 5);
    });
  });

  it('sums discounted monthly increments', () => {
    rows.forEach((row, i) => {
      const e = expected[i] as number;
      // lifetimes' own rtol 0.1 checks, then the exact increments.
      expect(Math.abs(clv(i, 2, 0) / (2 * e) - 1)).toBeLessThan(0.1);
      expect(Math.abs(clv(i, 2, 1) / (e / 2 + e / 4) - 1)).toBeLessThan(0.1);
      const e30 = expectedPurchases('bgnbd', bg, row, 30);
      const e60 = expectedPurchases('bgnbd', bg, row, 60);
      expect(clv(i, 2, 0)).toBeCloseTo(e60, 14);
      expect(clv(i, 2, 1)).toBeCloseTo(e30 / 2 + (e60 - e30) / 4, 14);
      expect(clv(i, 0, 0.01)).toBe(0);
    });
  });

  it('multiplies purchases by the Gamma-Gamma spend on CDNOW', () => {
    const count = fitCountModel('bgnbd', cdnow).params;
    const m = cdnow[0] as (typeof cdnow)[number]; // x = 2, t_x = 30.43, T = 38.86, zbar = 22.35
    const o = { months: 12, monthlyDiscountRate: 0.01, unitsPerMonth: 4.345 };
    let manual = 0;
    for (let i = 1; i <= 12; i++) {
      const increment =
        expectedPurchases('bgnbd', count, m, i * 4.345) - expectedPurchases('bgnbd', count, m, (i - 1) * 4.345);
      manual += (increment * expectedAverageSpend(fit.params, m)) / 1.01 ** i;
    }
    expect(lifetimeValue('bgnbd', count, fit.params, m, o)).toBeCloseTo(manual, 10);
  });
});
