import { describe, expect, it } from 'vitest';
import { activityIdOfLedgerEntry, hopLatencies, percentile, summarize } from '../../bench/lib/latency.js';
import { commandsBetween } from '../../bench/lib/redis-usage.js';

describe('bench measures', () => {
  it('finds the activity behind a tier change from its ledger entry id', () => {
    expect(activityIdOfLedgerEntry('pts:bhv:g22-1041:earn:0')).toBe('g22-1041');
    expect(activityIdOfLedgerEntry('pts:ref:g22-7:bonus:2')).toBe('g22-7');
    // Time-driven entries have no activity behind them.
    expect(activityIdOfLedgerEntry('pts:due:m1:expire:1767225600000')).toBeNull();
    expect(activityIdOfLedgerEntry('tier:due:m1:1767225600000:downgrade')).toBeNull();
  });

  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(summarize([30, 10, 20])).toEqual({ samples: 3, p50: 20, p95: 30, p99: 30, max: 30 });
  });

  it("splits a tier change's latency into the three hops by record timestamps", () => {
    const sentAt = new Map([
      ['a1', 1000],
      ['a2', 2000],
      ['a3', 3000],
    ]);
    const behaviorAt = new Map([
      ['bhv:a1', 1010],
      ['bhv:a2', 2030],
    ]);
    const ledgerAt = new Map([
      ['pts:bhv:a1:earn:0', 1050],
      ['pts:bhv:a2:earn:0', 2040],
    ]);
    const hops = hopLatencies(
      [
        { ledgerId: 'pts:bhv:a1:earn:0', activityId: 'a1', at: 1051 },
        { ledgerId: 'pts:bhv:a2:earn:0', activityId: 'a2', at: 2100 },
        // No behavior event on record for a3: left out and counted.
        { ledgerId: 'pts:bhv:a3:earn:0', activityId: 'a3', at: 3500 },
      ],
      sentAt,
      behaviorAt,
      ledgerAt,
    );
    expect(hops.unmatched).toBe(1);
    expect(hops.behaviorEvents).toEqual({ samples: 2, p50: 10, p95: 30, p99: 30, max: 30 });
    expect(hops.pointsAccrual).toEqual({ samples: 2, p50: 10, p95: 40, p99: 40, max: 40 });
    expect(hops.tierEvaluation).toEqual({ samples: 2, p50: 1, p95: 60, p99: 60, max: 60 });
  });

  it('counts the commands run between two snapshots, without its own INFO calls', () => {
    const before = new Map([
      ['evalsha', 10],
      ['info', 3],
      ['hmget', 5],
    ]);
    const after = new Map([
      ['evalsha', 25],
      ['info', 9],
      ['hmget', 5],
      ['zadd', 4],
    ]);
    expect(commandsBetween(before, after)).toEqual({ total: 19, byCommand: { evalsha: 15, zadd: 4 } });
  });
});
