import { describe, expect, it } from 'vitest';
import { nextProgress, readiness, type HealthFacts } from '../../shared/observability/readiness.js';

const base: HealthFacts = {
  now: 100_000,
  stallMs: 60_000,
  kafka: true,
  redis: true,
  registry: true,
  workers: [
    {
      worker: 'points-accrual',
      joined: true,
      consumerFailing: false,
      partitions: [{ topic: 'mf.behavior.events', partition: 0, lag: 0, lastProgressAt: 0 }],
    },
  ],
};

describe('readiness', () => {
  it('ready when every dependency answers and no assigned partition is stalled', () => {
    expect(readiness(base)).toEqual({ ready: true, reasons: [] });
  });

  it('names each dependency that does not answer', () => {
    expect(readiness({ ...base, kafka: false, registry: false }).reasons).toEqual([
      'kafka: not reachable',
      'schema registry: not reachable',
    ]);
    expect(readiness({ ...base, redis: false })).toEqual({ ready: false, reasons: ['redis: not reachable'] });
  });

  it('a worker outside its group, or whose consumer is restarting, is not ready', () => {
    const w = base.workers[0]!;
    expect(readiness({ ...base, workers: [{ ...w, joined: false }] }).reasons).toEqual([
      'points-accrual: not in its consumer group',
    ]);
    expect(readiness({ ...base, workers: [{ ...w, consumerFailing: true }] }).reasons).toEqual([
      'points-accrual: consumer failing, restarting',
    ]);
  });

  it('lag with no progress for the stall time is a stall; lag with recent progress, or none, is not', () => {
    const w = base.workers[0]!;
    const at = (lag: number, lastProgressAt: number) =>
      readiness({
        ...base,
        workers: [{ ...w, partitions: [{ topic: 'mf.behavior.events', partition: 3, lag, lastProgressAt }] }],
      });
    expect(at(12, 40_000)).toEqual({
      ready: false,
      reasons: ['points-accrual: mf.behavior.events[3] stalled: lag 12 and no progress for 60 s'],
    });
    expect(at(12, 40_001).ready).toBe(true);
    expect(at(0, 0).ready).toBe(true);
  });
});

describe('nextProgress', () => {
  it('moves the clock when the position moves or there is nothing to do, and keeps it otherwise', () => {
    const first = nextProgress(undefined, '10', 5, 1_000);
    expect(first).toEqual({ position: '10', lastProgressAt: 1_000 });
    expect(nextProgress(first, '10', 5, 9_000)).toBe(first);
    expect(nextProgress(first, '12', 3, 9_000)).toEqual({ position: '12', lastProgressAt: 9_000 });
    expect(nextProgress(first, '10', 0, 9_000)).toEqual({ position: '10', lastProgressAt: 9_000 });
  });
});
