import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSizeBound } from '../../shared/kernel/json-size-bound.js';

/** Strings with what JSON escapes or widens: controls, quotes, lone surrogates, 3- and 4-byte characters. */
const nastyString = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('"', '\\', '\u0000', '\u2028', '😀', '规'),
  ),
});
const nastyNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(-Number.MAX_VALUE, Number.MIN_VALUE, -5e-324, 1e21, -1.2345678901234568e-300, NaN, Infinity),
);
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(nastyString, nastyNumber, fc.boolean(), fc.constant(null)),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 6 }),
    fc.dictionary(nastyString, tie('node'), { maxKeys: 6 }),
  ),
})).node;

describe('jsonSizeBound', () => {
  it('is never under the UTF-8 bytes of JSON.stringify', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(jsonSizeBound(v)).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(v)));
      }),
      { numRuns: 2000 },
    );
  });

  it('stops counting once past stopAbove, and says so by a total above it', () => {
    const big = Array.from({ length: 10_000 }, (_, i) => ({ id: `item-${i}`, n: i }));
    const exact = jsonSizeBound(big);
    expect(exact).toBeGreaterThan(100_000);
    const stopped = jsonSizeBound(big, 1_000);
    expect(stopped).toBeGreaterThan(1_000);
    expect(stopped).toBeLessThan(exact);
    expect(jsonSizeBound(big, exact)).toBe(exact);
  });

  it('is within a small factor for states made of numbers and short ids', () => {
    const state = {
      clock: 1_700_000_000_000,
      lots: Array.from({ length: 20 }, (_, i) => ({ expiresAt: 1_700_000_000_000 + i, points: 40 })),
    };
    expect(jsonSizeBound(state) / JSON.stringify(state).length).toBeLessThan(4);
  });
});
