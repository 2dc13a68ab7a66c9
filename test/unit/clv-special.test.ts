import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hyp2f1, hyp2f1Minus1, lbeta, lgamma, logAddExp } from '../../shared/clv/special.js';

const EULER_GAMMA = 0.5772156649015329; // DLMF 5.2.3
const ZETA3 = 1.2020569031595942; // Apéry's constant, DLMF 25.6

/** |actual − expected| ≤ tol · max(|expected|, tiny). */
function expectRel(actual: number, expected: number, tol: number): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  expect(err, `actual ${actual}, expected ${expected}, relative error ${err}`).toBeLessThanOrEqual(tol);
}

describe('lgamma', () => {
  it('matches closed forms and tabulated values', () => {
    expectRel(lgamma(0.5), 0.5 * Math.log(Math.PI), 1e-15); // Γ(½) = √π
    expect(lgamma(1)).toBe(0);
    expect(lgamma(2)).toBe(0);
    expectRel(lgamma(1.5), Math.log(Math.sqrt(Math.PI) / 2), 1e-15);
    expectRel(lgamma(2.5), Math.log((3 * Math.sqrt(Math.PI)) / 4), 1e-15);
    expectRel(lgamma(3), Math.LN2, 1e-15);
    expectRel(lgamma(10), Math.log(362880), 1e-15); // 9!
    expectRel(lgamma(100), 359.1342053695754, 1e-15); // ln 99!, A&S Table 6.4 / DLMF 5.11
    expectRel(lgamma(171), Math.log(7.257415615307999e306), 1e-15); // ln 170!
  });

  it('is accurate for tiny and huge arguments', () => {
    // ln Γ(ε) = −ln ε − γε + ζ(2)ε²/2 − ζ(3)ε³/3 + ζ(4)ε⁴/4 − … (DLMF 5.7.3); next term ~ 2e-16.
    const e = 1e-3;
    const series =
      -Math.log(e) -
      EULER_GAMMA * e +
      ((Math.PI ** 2 / 6) * e ** 2) / 2 -
      (ZETA3 * e ** 3) / 3 +
      ((Math.PI ** 4 / 90) * e ** 4) / 4;
    expectRel(lgamma(e), series, 1e-15);
    expectRel(lgamma(1e-300), 300 * Math.LN10, 1e-15);
    // Stirling with the 1/(12x) term is exact to ~1e-20 relative at 1e6 (DLMF 5.11.1).
    const x = 1e6;
    expectRel(lgamma(x), (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x), 1e-15);
    expectRel(lgamma(1e6), 12815504.569147611, 1e-15); // mpmath 1.3, 30 digits: 12815504.5691476116599…
  });

  it('keeps relative accuracy next to its zeros at 1 and 2', () => {
    // ln Γ(1+ε) = −γε + ζ(2)ε²/2 − …, ln Γ(2+ε) = (1−γ)ε + (ζ(2)−1)ε²/2 − … (DLMF 5.7.3).
    // Powers of two, so that 1 + ε and 2 + ε are exact in floating point.
    for (const e of [2 ** -40, -(2 ** -30), 2 ** -20]) {
      expectRel(lgamma(1 + e), -EULER_GAMMA * e + ((Math.PI ** 2 / 6) * e * e) / 2, 1e-12);
      expectRel(lgamma(2 + e), (1 - EULER_GAMMA) * e + ((Math.PI ** 2 / 6 - 1) * e * e) / 2, 1e-12);
    }
  });

  it('satisfies the recurrence, reflection and duplication formulas', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e4, noNaN: true }), (x) => {
        // Γ(x+1) = xΓ(x)
        expect(Math.abs(lgamma(x + 1) - lgamma(x) - Math.log(x))).toBeLessThanOrEqual(
          2e-15 * (1 + Math.abs(lgamma(x + 1))),
        );
        // Legendre duplication: ln Γ(2x) = (2x−1) ln 2 + ln Γ(x) + ln Γ(x+½) − ½ ln π
        const dup = (2 * x - 1) * Math.LN2 + lgamma(x) + lgamma(x + 0.5) - 0.5 * Math.log(Math.PI);
        expect(Math.abs(lgamma(2 * x) - dup)).toBeLessThanOrEqual(4e-15 * (1 + Math.abs(lgamma(2 * x))));
      }),
    );
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 0.99, noNaN: true }), (x) => {
        // Γ(x)Γ(1−x) = π / sin(πx)
        expectRel(lgamma(x) + lgamma(1 - x), Math.log(Math.PI / Math.sin(Math.PI * x)), 1e-14);
      }),
    );
  });

  it('gives ln|Γ| for negative arguments and +∞ at the poles', () => {
    expectRel(lgamma(-0.5), Math.log(2 * Math.sqrt(Math.PI)), 1e-15); // Γ(−½) = −2√π
    expect(lgamma(0)).toBe(Infinity);
    expect(lgamma(-3)).toBe(Infinity);
    expect(lgamma(NaN)).toBeNaN();
  });
});

describe('lbeta', () => {
  it('matches closed forms', () => {
    expect(lbeta(1, 1)).toBe(0);
    expectRel(lbeta(2, 3), Math.log(1 / 12), 1e-15);
    expectRel(lbeta(0.5, 0.5), Math.log(Math.PI), 1e-15);
    expectRel(lbeta(7.5, 1), -Math.log(7.5), 1e-15); // B(a, 1) = 1/a
    expectRel(lbeta(1e6, 1), -Math.log(1e6), 1e-15);
  });

  it('stays accurate for large arguments (B(a,b) = B(a,b+1)·(a+b)/b)', () => {
    for (const [a, b] of [
      [1e6, 2.5],
      [12, 1e8],
      [1e5, 3e5],
      [0.3, 40],
    ] as const) {
      const residual = lbeta(a, b) - lbeta(a, b + 1) - Math.log((a + b) / b);
      expect(Math.abs(residual)).toBeLessThan(1e-15 * Math.abs(lbeta(a, b)) + 1e-14);
      expect(lbeta(a, b)).toBe(lbeta(b, a));
    }
  });

  it('rejects non-positive arguments', () => {
    expect(() => lbeta(0, 1)).toThrow(RangeError);
  });
});

describe('logAddExp', () => {
  it('adds in log space without overflow', () => {
    expectRel(logAddExp(0, 0), Math.LN2, 1e-15);
    expectRel(logAddExp(1000, 1000), 1000 + Math.LN2, 1e-15);
    expectRel(logAddExp(-1000, -1001), -1000 + Math.log1p(Math.exp(-1)), 1e-15);
    expect(logAddExp(-Infinity, 3)).toBe(3);
    expect(logAddExp(-Infinity, -Infinity)).toBe(-Infinity);
    expect(logAddExp(Infinity, 1)).toBe(Infinity);
    expect(logAddExp(NaN, 1)).toBeNaN();
  });
});

/** Σ (a)_n (b)_n / ((c)_n n!) z^n in exact rational arithmetic on 60-digit fixed point (BigInt). */
function bigSeries(a: [bigint, bigint], b: [bigint, bigint], c: [bigint, bigint], z: [bigint, bigint]): number {
  const scale = 10n ** 60n;
  let term = scale;
  let sum = scale;
  for (let n = 0n; n < 200_000n; n++) {
    term =
      (term * (a[0] + n * a[1]) * (b[0] + n * b[1]) * z[0] * c[1]) /
      (a[1] * b[1] * z[1] * (c[0] + n * c[1]) * (n + 1n));
    sum += term;
    if (n > 50n && (term < 0n ? -term : term) < 10n ** 10n) return Number(sum.toString()) / 1e60;
  }
  throw new Error('bigSeries did not converge');
}
const q = (num: number, den = 1): [bigint, bigint] => [BigInt(num), BigInt(den)];
const val = ([n, d]: [bigint, bigint]) => Number(n) / Number(d);

describe('hyp2f1', () => {
  it('matches 2F1(1,1;2;z) = −ln(1−z)/z (DLMF 15.4.2) near 1 and for negative z', () => {
    for (const z of [1e-8, 0.1, 0.5, 0.9, 0.99, 0.999, -0.5, -0.9, -5, -100, -1000]) {
      expectRel(hyp2f1(1, 1, 2, z), -Math.log1p(-z) / z, 1e-13);
    }
  });

  it('matches 2F1(a,b;b;z) = (1−z)^(−a) (DLMF 15.4.6)', () => {
    for (const z of [0.3, 0.95, 0.999999, -3, -1e6]) {
      expectRel(hyp2f1(0.7, 2.3, 2.3, z), (1 - z) ** -0.7, 1e-14);
      expectRel(hyp2f1(2.3, 0.7, 0.7, z), (1 - z) ** -2.3, 1e-14);
    }
  });

  it('matches the arcsin, arsinh and arctan forms (DLMF 15.4.4, 15.4.3)', () => {
    for (const z of [0.3, 0.9, 0.99, 0.9999]) expectRel(hyp2f1(0.5, 0.5, 1.5, z * z), Math.asin(z) / z, 1e-13);
    for (const z of [0.5, 3, 30]) expectRel(hyp2f1(0.5, 0.5, 1.5, -z * z), Math.asinh(z) / z, 1e-13);
    // c − a − b = 0 here, so −1e4 is summed as a 370 000-term series in z/(z−1) ≈ 0.9999 and the
    // accuracy drops to about ε/(1 − 0.9999); see README.md.
    expectRel(hyp2f1(0.5, 0.5, 1.5, -1e4), Math.asinh(100) / 100, 2e-12);
    for (const z of [0.5, 2, 50]) expectRel(hyp2f1(0.5, 1, 1.5, -z * z), Math.atan(z) / z, 1e-13);
  });

  it("uses Gauss's theorem at z = 1 and sums polynomials exactly", () => {
    expectRel(hyp2f1(0.5, 0.5, 2, 1), 4 / Math.PI, 1e-14); // Γ(2)Γ(1)/Γ(3/2)² (DLMF 15.4.20)
    const [b, c, z] = [1.7, 2.9, -7.5];
    expectRel(hyp2f1(-2, b, c, z), 1 - (2 * b * z) / c + (b * (b + 1) * z * z) / (c * (c + 1)), 1e-14);
  });

  it('agrees with an exact rational power series', () => {
    const cases: [bigint, bigint][][] = [
      [q(1, 3), q(5, 4), q(7, 2), q(3, 10)],
      [q(2243, 1000), q(4426, 1000), q(5219, 1000), q(1, 2)], // BG/NBD-like: r+x, b+x, a+b+x−1
      [q(5, 2), q(13, 4), q(7, 4), q(6, 10)],
      [q(-7, 10), q(3, 2), q(9, 4), q(9, 10)],
      [q(3, 2), q(11, 4), q(31, 10), q(95, 100)], // connection formula region
      [q(1, 4), q(3, 4), q(11, 3), q(98, 100)],
      [q(4, 3), q(5, 2), q(7, 2), q(-8, 10)], // Pfaff region
      [q(3, 5), q(-27, 10), q(13, 10), q(-1, 2)],
    ];
    for (const [a, b, c, z] of cases) {
      const args = [a, b, c, z] as [bigint, bigint][];
      const expected = bigSeries(args[0]!, args[1]!, args[2]!, args[3]!);
      expectRel(hyp2f1(val(args[0]!), val(args[1]!), val(args[2]!), val(args[3]!)), expected, 5e-14);
    }
  });

  it('returns 2F1 − 1 to full relative precision for small z', () => {
    const z = 1e-12;
    expectRel(hyp2f1Minus1(1, 1, 2, z), z / 2 + (z * z) / 3, 1e-15);
    expectRel(hyp2f1Minus1(1, 1, 2, 0.7), -Math.log1p(-0.7) / 0.7 - 1, 1e-14);
  });

  it('throws clear errors outside its domain or when a series does not converge', () => {
    expect(() => hyp2f1(1, 1, 2, 1 - 1e-9)).toThrow(/did not converge/);
    expect(() => hyp2f1(1, 1, -2, 0.5)).toThrow(/pole/);
    expect(() => hyp2f1(1, 1, 2, 1.5)).toThrow(/z must be/);
    expect(() => hyp2f1(1, 1, 2, 1)).toThrow(/diverges/);
    expect(() => hyp2f1(NaN, 1, 2, 0.5)).toThrow(/finite/);
  });
});
