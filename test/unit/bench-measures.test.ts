import { describe, expect, it } from 'vitest';
import { activityIdOfLedgerEntry, percentile, summarize } from '../../bench/lib/latency.js';
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

  it('counts the commands run between two snapshots, without its own INFO calls', () => {
    const before = new Map([['evalsha', 10], ['info', 3], ['hmget', 5]]);
    const after = new Map([['evalsha', 25], ['info', 9], ['hmget', 5], ['zadd', 4]]);
    expect(commandsBetween(before, after)).toEqual({ total: 19, byCommand: { evalsha: 15, zadd: 4 } });
  });
});
