import { describe, expect, it } from 'vitest';
import { compareOffsets, nextOffset } from '../../shared/kernel/offsets.js';

const sign = (x: number) => Math.sign(x);

describe('compareOffsets', () => {
  it('orders offsets by value, also past 2^53 and across lengths', () => {
    expect(compareOffsets('9', '10')).toBe(-1);
    expect(compareOffsets('10', '9')).toBe(1);
    expect(compareOffsets('123', '123')).toBe(0);
    expect(compareOffsets('0', '1')).toBe(-1);
    expect(compareOffsets('9007199254740993', '9007199254740992')).toBe(1);
    expect(compareOffsets('9223372036854775807', '9223372036854775806')).toBe(1);
  });

  it('compares -1 ("no offset") and non-canonical spellings by value', () => {
    expect(compareOffsets('-1', '0')).toBe(-1);
    expect(compareOffsets('0', '-1')).toBe(1);
    expect(compareOffsets('-1', '-1')).toBe(0);
    expect(compareOffsets('007', '7')).toBe(0);
    expect(compareOffsets('010', '9')).toBe(1);
  });

  it('agrees with BigInt comparison on random pairs', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let i = 0; i < 2000; i++) {
      const a = String(rand() % 10 ** (1 + (i % 7)));
      const b = String(rand() % 10 ** (1 + ((i * 3) % 7)));
      const want = BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
      expect(sign(compareOffsets(a, b))).toBe(want);
    }
  });

  it('steps to the next offset without losing precision', () => {
    expect(nextOffset('9007199254740992')).toBe('9007199254740993');
  });
});
