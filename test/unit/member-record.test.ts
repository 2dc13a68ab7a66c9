import { behaviorEvent } from '../support/behavior-event.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  emptyRecord,
  eventFingerprint,
  stepMember,
  stepTick,
  trimOutbox,
  type MemberRecord,
} from '../../shared/kernel/member-record.js';
import { decodeRecord, encodeRecordBody, RecordFormatError } from '../../shared/redis/record-codec.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { deadLetter, deadLetterMaxValueBytes } from '../../shared/kernel/dead-letter.js';
import { avroType } from '../../shared/contracts/schemas.js';
import type { Decoded, InputRecord, WorkerLogic } from '../../shared/kernel/types.js';
import { inputRecord, rules } from './fixtures.js';

/** A tiny worker: sums amounts, refuses negatives, emits one output per event. */
interface Ev {
  id: string;
  member: string;
  amount: number;
}
const summing: WorkerLogic<{ total: number }, Ev> = {
  name: 'sum',
  initialState: () => ({ total: 0 }),
  decide(state, e) {
    if (e.amount < 0) return { kind: 'rejected', rejection: { reason: 'negative', message: 'negative amount' } };
    if (e.amount === 13) throw new Error('unlucky');
    const total = state.total + e.amount;
    return {
      kind: 'applied',
      state: { total },
      outputs: [
        {
          topic: 'behavior.events',
          key: e.member,
          id: `out:${e.id}`,
          value: behaviorValue(`out:${e.id}`, e.member, total),
        },
      ],
    };
  },
};
const limits = { recentIds: 4, outboxEntries: 100, maxStateBytes: 1_048_576 };

/** A schema-valid behavior.events value carrying the running total. */
function behaviorValue(id: string, member: string, total: number): Record<string, unknown> {
  return {
    ...behaviorEvent({ eventId: id, sourceEventId: id, userId: member, type: 'checkin', occurredAt: 0 }),
    totalSpendFen: total,
    rulesVersion: 't',
  };
}
const ctx = { rules, record: { timestamp: 0, sizeBytes: 0, topic: 'test', partition: 0, offset: '0' } };
const step = (rec: MemberRecord<{ total: number }>, offset: number, e: Ev) =>
  stepMember(
    summing,
    rec,
    { record: inputRecord(offset, e, e.member), eventId: e.id, memberId: e.member, event: e },
    ctx,
    limits,
  );

describe('member record: exactly-once bookkeeping', () => {
  it('applies a new input, then recognises its redelivery and returns the stored outputs', () => {
    const first = step(emptyRecord(), 5, { id: 'a', member: 'm', amount: 3 });
    expect(first.outcome).toBe('applied');
    expect(first.record.state).toEqual({ total: 3 });
    const again = step(first.record, 5, { id: 'a', member: 'm', amount: 3 });
    expect(again.outcome).toBe('redelivered');
    expect(again.changed).toBe(false);
    expect(again.outputs).toEqual(first.outputs);
    expect(again.record).toBe(first.record);
  });

  it('recognises an upstream duplicate at a new offset and emits nothing', () => {
    const first = step(emptyRecord(), 5, { id: 'a', member: 'm', amount: 3 });
    const dup = step(first.record, 9, { id: 'a', member: 'm', amount: 3 });
    expect(dup.outcome).toBe('duplicate');
    expect(dup.outputs).toEqual([]);
    expect(dup.record.state).toEqual({ total: 3 });
    expect(dup.record.watermarks['test.activity.events:0']).toBe('9');
  });

  it('forgets ids beyond the configured window', () => {
    let rec = emptyRecord<{ total: number }>();
    for (let i = 0; i < 5; i++) rec = step(rec, i, { id: `e${i}`, member: 'm', amount: 1 }).record;
    expect(rec.recentIds).toEqual(['e1', 'e2', 'e3', 'e4'].map(eventFingerprint));
    expect(step(rec, 10, { id: 'e0', member: 'm', amount: 1 }).outcome).toBe('applied');
    expect(step(rec, 10, { id: 'e1', member: 'm', amount: 1 }).outcome).toBe('duplicate');
  });

  it('keeps no fingerprint of an only copy (a transactional memberflow output), yet checks it against those it has', () => {
    const onlyCopy = (rec: MemberRecord<{ total: number }>, offset: number, e: Ev) =>
      stepMember(
        summing,
        rec,
        {
          record: { ...inputRecord(offset, e, e.member), onlyCopy: true },
          eventId: e.id,
          memberId: e.member,
          event: e,
        },
        ctx,
        limits,
      );
    const a = onlyCopy(emptyRecord(), 1, { id: 'a', member: 'm', amount: 2 });
    expect(a.outcome).toBe('applied');
    expect(a.record.recentIds).toEqual([]);
    // An earlier copy written without transactions left its fingerprint: the only copy is that event again.
    const b = step(a.record, 2, { id: 'b', member: 'm', amount: 5 });
    expect(b.record.recentIds).toEqual([eventFingerprint('b')]);
    const again = onlyCopy(b.record, 3, { id: 'b', member: 'm', amount: 5 });
    expect(again.outcome).toBe('duplicate');
    expect(again.record.state).toEqual({ total: 7 });
    const c = onlyCopy(b.record, 3, { id: 'c', member: 'm', amount: 1 });
    expect(c.record.recentIds).toEqual([eventFingerprint('b')]);
    expect(c.record.recentIds).not.toBe(b.record.recentIds);
  });

  it('keeps recent ids as fixed-size fingerprints, whatever the id length', () => {
    const long = 'x'.repeat(60_000);
    const r = step(emptyRecord(), 1, { id: long, member: 'm', amount: 1 });
    expect(r.record.recentIds).toHaveLength(1);
    expect(r.record.recentIds[0]).toHaveLength(11);
    expect(step(r.record, 2, { id: long, member: 'm', amount: 1 }).outcome).toBe('duplicate');
    expect(step(r.record, 2, { id: `${long}y`, member: 'm', amount: 1 }).outcome).toBe('applied');
    expect(eventFingerprint('a')).not.toBe(eventFingerprint('b'));
  });

  it('refuses, with state_too_large, an event that would take the state past the cap; the state stays as it was', () => {
    // Each event appends to a list: the JSON state grows by about 8 bytes per event.
    const growing: WorkerLogic<{ xs: number[] }, Ev> = {
      name: 'grow',
      initialState: () => ({ xs: [] }),
      decide: (state, e) => ({ kind: 'applied', state: { xs: [...state.xs, e.amount] }, outputs: [] }),
    };
    const capped = { recentIds: 4, outboxEntries: 100, maxStateBytes: 64 };
    let rec = emptyRecord<{ xs: number[] }>();
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      const r = stepMember(
        growing,
        rec,
        {
          record: inputRecord(i, {}, 'm'),
          eventId: `e${i}`,
          memberId: 'm',
          event: { id: `e${i}`, member: 'm', amount: 1_000_000 + i },
        },
        ctx,
        capped,
      );
      if (r.outcome === 'rejected') {
        refused++;
        expect(r.rejection?.reason).toBe('state_too_large');
        expect(r.rejection?.message).toContain('state.maxBytes');
        expect(r.record.state).toEqual(rec.state);
        expect(r.outputs.map((o) => o.value.reason)).toEqual(['state_too_large']);
      }
      rec = r.record;
    }
    expect(refused).toBeGreaterThan(10);
    expect(JSON.stringify(rec.state).length).toBeLessThanOrEqual(64);
    // The reference run refuses the same inputs.
    const log = Array.from({ length: 20 }, (_, i) => ({
      record: inputRecord(i, {}, 'm'),
      decoded: {
        kind: 'event',
        memberId: 'm',
        eventId: `e${i}`,
        event: { id: `e${i}`, member: 'm', amount: 1_000_000 + i },
      } satisfies Decoded<Ev>,
    }));
    const reference = referenceRun(growing, log, rules, capped);
    expect(reference.states.get('m')).toEqual(rec.state);
    expect(reference.outputs.filter((o) => o.value.reason === 'state_too_large')).toHaveLength(refused);
  });

  it('caps the state on ticks too', () => {
    const timed: WorkerLogic<{ xs: number[] }, Ev> = {
      name: 'timed',
      initialState: () => ({ xs: [] }),
      decide: (state) => ({ kind: 'applied', state, outputs: [] }),
      nextDue: () => 0,
      onTick: (state, _m, t) => ({ kind: 'applied', state: { xs: [...state.xs, t.time] }, outputs: [] }),
    };
    const start: MemberRecord<{ xs: number[] }> = { ...emptyRecord(), state: { xs: [1, 2, 3] } };
    const tick = { rules, time: 123_456_789_000, tickId: 't', offset: '0' };
    const ok = stepTick(timed, start, 'm', inputRecord(1, {}, 'm'), tick, {
      recentIds: 4,
      outboxEntries: 10,
      maxStateBytes: 1024,
    });
    expect(ok.outcome).toBe('applied');
    const refused = stepTick(timed, start, 'm', inputRecord(1, {}, 'm'), tick, {
      recentIds: 4,
      outboxEntries: 10,
      maxStateBytes: 16,
    });
    expect(refused.outcome).toBe('rejected');
    expect(refused.rejection?.reason).toBe('state_too_large');
    expect(refused.record.state).toEqual({ xs: [1, 2, 3] });
  });

  it('a refused event goes to the dead-letter topic, does not count as applied, and its redelivery re-publishes the same dead letter', () => {
    const bad = step(emptyRecord(), 1, { id: 'b', member: 'm', amount: -1 });
    expect(bad.outcome).toBe('rejected');
    expect(bad.outputs).toHaveLength(1);
    expect(bad.outputs[0]).toMatchObject({
      topic: 'activity.dlq',
      id: 'dlq:sum:test.activity.events:0:1',
      value: { reason: 'negative' },
    });
    expect(bad.record.recentIds).toEqual([]);
    expect(step(bad.record, 1, { id: 'b', member: 'm', amount: -1 }).outputs).toEqual(bad.outputs);
  });

  it('a rule that throws refuses that event with processing_error instead of stopping', () => {
    const r = step(emptyRecord(), 1, { id: 'x', member: 'm', amount: 13 });
    expect(r.outcome).toBe('rejected');
    expect(r.rejection?.reason).toBe('processing_error');
  });

  it('refuses an input whose output its topic schema would refuse, instead of storing an unpublishable output', () => {
    const broken: WorkerLogic<{ total: number }, Ev> = {
      ...summing,
      decide: (state, e) => ({
        kind: 'applied',
        state,
        outputs: [{ topic: 'behavior.events', key: e.member, id: `out:${e.id}`, value: { eventId: 7 } }],
      }),
    };
    const r = stepMember(
      broken,
      emptyRecord(),
      { record: inputRecord(3, {}, 'm'), eventId: 'x', memberId: 'm', event: { id: 'x', member: 'm', amount: 1 } },
      ctx,
      limits,
    );
    expect(r.outcome).toBe('rejected');
    expect(r.rejection?.reason).toBe('invalid_output');
    expect(r.record.state).toBeNull();
    expect(r.outputs.map((o) => o.topic)).toEqual(['activity.dlq']);
  });

  it('keys a dead letter without a member id by the record key only while it is short', () => {
    const short = deadLetter(
      'w',
      { ...inputRecord(1, 'x', 'k'), key: Buffer.from('m-1') },
      { reason: 'r', message: 'm' },
      { eventId: null, memberId: null },
    );
    expect(short.key).toBe('m-1');
    const huge = deadLetter(
      'w',
      { ...inputRecord(1, 'x', 'k'), key: Buffer.alloc(60_000, 0x61) },
      { reason: 'r', message: 'm' },
      { eventId: null, memberId: null },
    );
    expect(huge.key).toBe('');
    expect((huge.value.originalKey as Buffer).length).toBe(1024);
  });

  it('keeps at most 256 KiB of the original value in a dead letter, and its full size', () => {
    const big = Buffer.alloc(300 * 1024, 0x61);
    const dl = deadLetter(
      'w',
      { ...inputRecord(1, 'x', 'k'), value: big },
      { reason: 'r', message: 'm' },
      { eventId: null, memberId: null },
    );
    expect((dl.value.originalValue as Buffer).length).toBe(deadLetterMaxValueBytes);
    expect(dl.value.originalSize).toBe(big.length);
    expect(avroType('activity.dlq').isValid(dl.value)).toBe(true);
  });

  it('stores a record as one string: version, state, watermarks and fingerprints round-trip', () => {
    const ids = ['a', 'b', 'c'].map(eventFingerprint);
    const body = encodeRecordBody('c', '[1,"é"]', { 'ns.behavior.events:0': '12' }, ids);
    const stored = decodeRecord(Buffer.concat([Buffer.from('7 '), body]), 'k');
    expect(stored).toEqual({
      version: 7,
      encoding: 'c',
      state: '[1,"é"]',
      watermarks: { 'ns.behavior.events:0': '12' },
      recentIds: ids,
    });
    const empty = decodeRecord(Buffer.concat([Buffer.from('1 '), encodeRecordBody('j', null, {}, [])]), 'k');
    expect(empty).toEqual({ version: 1, encoding: 'j', state: null, watermarks: {}, recentIds: [] });
    expect(decodeRecord(null, 'k')).toBeNull();
    expect(() => decodeRecord(Buffer.from('{"state":1}'), 'k')).toThrow(RecordFormatError);
    expect(() => decodeRecord(Buffer.from('1 5 2 j\n{}'), 'k')).toThrow(RecordFormatError);
  });

  it('trims outbox entries below the first offset of a new batch, only for that partition', () => {
    let rec = emptyRecord<{ total: number }>();
    rec = step(rec, 1, { id: 'a', member: 'm', amount: 1 }).record;
    rec = step(rec, 2, { id: 'b', member: 'm', amount: 1 }).record;
    const trimmed = trimOutbox(rec, 'test.activity.events:0', '2');
    expect(trimmed.outbox.map((e) => e.offset)).toEqual(['2']);
    expect(trimOutbox(rec, 'test.activity.events:1', '2').outbox).toHaveLength(2);
  });

  it('property: redelivering any prefix of the log changes neither state nor outputs (by id)', () => {
    const event = fc.record({
      id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'),
      member: fc.constantFrom('m1', 'm2', 'm3'),
      amount: fc.integer({ min: -2, max: 20 }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), fc.nat(), (events, cut) => {
        const log = events.map((e, i): { record: InputRecord; decoded: Decoded<Ev> } => ({
          record: inputRecord(i, e, e.member),
          decoded: { kind: 'event', memberId: e.member, eventId: e.id, event: e },
        }));
        const reference = referenceRun(summing, log, rules, {
          recentIds: 100,
          outboxEntries: 1000,
          maxStateBytes: 1_048_576,
        });
        // Crash after `cut` records were applied, then the consumer restarts from offset 0.
        const crashAt = events.length === 0 ? 0 : cut % (events.length + 1);
        const records = new Map<string, MemberRecord<{ total: number }>>();
        const published: { id: string; value: unknown }[] = [];
        const run = (slice: typeof log) => {
          for (const { record, decoded } of slice) {
            if (decoded.kind !== 'event') continue;
            const cur = records.get(decoded.memberId) ?? emptyRecord();
            const r = stepMember(summing, cur, { record, ...decoded }, ctx, {
              recentIds: 100,
              outboxEntries: 1000,
              maxStateBytes: 1_048_576,
            });
            records.set(decoded.memberId, r.record);
            published.push(...r.outputs);
          }
        };
        run(log.slice(0, crashAt));
        run(log);
        const dedup = new Map(published.map((o) => [o.id, o]));
        const expected = new Map(reference.outputs.map((o) => [o.id, o]));
        expect([...dedup.keys()].sort()).toEqual([...expected.keys()].sort());
        for (const [id, o] of expected) expect(dedup.get(id)).toEqual(o);
        for (const [m, s] of reference.states) expect(records.get(m)?.state).toEqual(s);
      }),
      { numRuns: 300 },
    );
  });
});
