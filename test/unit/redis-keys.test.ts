import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slotFenceKey } from '../../shared/redis/keys.js';
import {
  bucketOf,
  clusterSlots,
  memberIdOfKey,
  memberKey,
  outboxKey,
  projectionBuckets,
  projectionShardKey,
  slotOf,
  tagOfSlot,
} from '../../shared/redis/keys.js';

/** Ids with what breaks naive key parsing: braces, colons, non-ASCII, lone surrogates. */
const anyId = fc.string({
  unit: fc.oneof(
    fc.constantFrom('{', '}', ':', 'u', 'b', '*', 'é', '😀', '\ud800'),
    fc.string({ minLength: 1, maxLength: 1 }),
  ),
  minLength: 0,
  maxLength: 12,
});

describe('Redis keys: one slot per script call', () => {
  it("a member's record and outbox share a slot, in either layout, whatever the id", () => {
    fc.assert(
      fc.property(anyId, (id) => {
        expect(slotOf(outboxKey('ns', 'w', id))).toBe(slotOf(memberKey('ns', 'w', id)));
        const record = memberKey('ns', 'w', id, 'bucketed');
        expect(slotOf(outboxKey('ns', 'w', id, 'bucketed'))).toBe(slotOf(record));
        // The projection shard of the member's bucket is in the same slot as its record.
        expect(slotOf(projectionShardKey('ns', 'w', 'popularity', bucketOf(id, projectionBuckets)))).toBe(
          slotOf(record),
        );
        expect(memberIdOfKey(record)).toBe(id);
        expect(memberIdOfKey(memberKey('ns', 'w', id))).toBe(id);
      }),
      { numRuns: 500 },
    );
  });

  it('the fence copy of any slot hashes to that slot', () => {
    for (let slot = 0; slot < clusterSlots; slot++)
      expect(slotOf(slotFenceKey('ns', 'points-accrual', slot))).toBe(slot);
    expect(new Set(Array.from({ length: clusterSlots }, (_, s) => tagOfSlot(s))).size).toBe(clusterSlots);
  });

  it('buckets spread ids evenly and never move (the stored layout depends on them)', () => {
    const counts = new Array<number>(projectionBuckets).fill(0);
    for (let i = 0; i < 16_000; i++) counts[bucketOf(`item-${i}`, projectionBuckets)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
    // FNV-1a of "85123A" (an Online Retail stock code) and of "" (the offset basis 2166136261).
    expect(bucketOf('', projectionBuckets)).toBe(2166136261 % projectionBuckets);
    expect(bucketOf('85123A', 1 << 30)).toBe(fnv1a('85123A') % (1 << 30));
  });

  it('projection shards of one projection lie in distinct slots', () => {
    const slots = new Set(
      Array.from({ length: projectionBuckets }, (_, b) =>
        slotOf(projectionShardKey('ns', 'reco-items', 'popularity', b)),
      ),
    );
    expect(slots.size).toBe(projectionBuckets);
  });
});

/** Reference FNV-1a 32 over UTF-16 code units, written out independently of keys.ts. */
function fnv1a(s: string): number {
  let h = 2166136261n;
  for (const unit of Array.from({ length: s.length }, (_, i) => BigInt(s.charCodeAt(i)))) {
    h ^= unit;
    h = (h * 16777619n) % 4294967296n;
  }
  return Number(h);
}
