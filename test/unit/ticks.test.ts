import { describe, expect, it } from 'vitest';
import { emptyRecord, stepTick } from '../../shared/kernel/member-record.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import type { Decoded, InputRecord } from '../../shared/kernel/types.js';
import { timedWorker, ttl, type CreditEvent } from '../support/timed-worker.js';
import { inputRecord, rules } from './fixtures.js';

const limits = { recentIds: 100, outboxEntries: 1000, maxStateBytes: 1_048_576 };
const ev = (offset: number, id: string, member: string, at: number, partition = 0) => ({
  record: inputRecord(offset, { id, member, at }, member, { partition }),
  decoded: { kind: 'event', memberId: member, eventId: id, event: { id, member, at } } as Decoded<CreditEvent>,
});
const tick = (offset: number, time: number, partition = 0) => {
  const record: InputRecord = { ...inputRecord(offset, { tick: time }, '__tick__', { partition }), tick: time };
  return {
    record,
    decoded: {
      kind: 'rejected',
      rejection: { reason: 'tick', message: '' },
      eventId: null,
      memberId: null,
    } as Decoded<CreditEvent>,
  };
};

describe('ticks: time carried in the log', () => {
  it("applies due work to the members of the tick's partition only, when the tick says so", () => {
    const log = [ev(0, 'a', 'm1', 0), ev(1, 'b', 'm2', 500), ev(0, 'c', 'm3', 0, 1), tick(2, ttl), tick(3, ttl + 500)];
    const { outputs, states } = referenceRun(timedWorker, log, rules, limits, { forwardTicksTo: 'behavior.events' });
    expect(outputs.map((o) => o.id)).toEqual([
      'grant:a',
      'grant:b',
      'grant:c',
      'expire:a:tick:test.activity.events:0:2',
      'fwd:tick:test.activity.events:0:2',
      'expire:b:tick:test.activity.events:0:3',
      'fwd:tick:test.activity.events:0:3',
    ]);
    expect(states.get('m1')).toEqual({ credits: [], expired: 1 });
    expect(states.get('m3')?.credits).toHaveLength(1); // partition 1 has had no tick
    expect(outputs.find((o) => o.id.startsWith('fwd:'))?.tick).toEqual({ partition: 0, time: ttl });
  });

  it('a tick before anything is due changes nothing', () => {
    const { outputs } = referenceRun(timedWorker, [ev(0, 'a', 'm1', 0), tick(1, ttl - 1)], rules, limits);
    expect(outputs.map((o) => o.id)).toEqual(['grant:a']);
  });

  it("a redelivered tick re-publishes the member's stored outputs and changes nothing", () => {
    const start = {
      ...emptyRecord<{ credits: { id: string; expiresAt: number }[]; expired: number }>(),
      state: { credits: [{ id: 'a', expiresAt: 10 }], expired: 0 },
    };
    const t = tick(7, 20).record;
    const ctx = { rules, time: 20, tickId: 'tick:x', offset: '0' };
    const first = stepTick(timedWorker, start, 'm1', t, ctx, limits);
    expect(first.outcome).toBe('applied');
    const again = stepTick(timedWorker, first.record, 'm1', t, ctx, limits);
    expect(again.outcome).toBe('redelivered');
    expect(again.outputs).toEqual(first.outputs);
    expect(again.record).toBe(first.record);
  });
});
