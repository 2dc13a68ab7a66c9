import { describe, expect, it } from 'vitest';
import { ActivityDecoder, validateShape } from '../../services/behavior-events/decode.js';
import { parseEventTime } from '../../shared/util/time.js';
import { inputRecord, rules } from './fixtures.js';

const noAvro = {
  decode: () => Promise.reject(new Error('no registry in unit tests')),
};
const decoder = new ActivityDecoder(noAvro, () => rules);
const good = { eventId: 'e1', userId: 'u1', type: 'purchase', occurredAt: 1767225600000, amountFen: 990, itemId: 'c1' };

describe('activity decoding (shape)', () => {
  it('accepts plain JSON and fills absent optional fields with null', async () => {
    const d = await decoder.decode(inputRecord(0, good, 'u1'));
    expect(d.kind).toBe('event');
    if (d.kind === 'event') {
      expect(d.event).toMatchObject({ ...good, category: null, refundOf: null });
      expect(d.memberId).toBe('u1');
    }
  });

  it('accepts ISO-8601 with an offset and converts it to epoch ms', async () => {
    const d = await decoder.decode(inputRecord(0, { ...good, occurredAt: '2026-01-01T08:00:00+08:00' }, 'u1'));
    expect(d.kind === 'event' && d.event.occurredAt).toBe(Date.UTC(2026, 0, 1, 0, 0, 0));
  });

  const reasonCases: [string, unknown, string | null, string][] = [
    ['not JSON', '{oops', 'u1', 'malformed_json'],
    ['an array', [1, 2], 'u1', 'schema_mismatch'],
    ['money as float', { ...good, amountFen: 9.9 }, 'u1', 'schema_mismatch'],
    ['type as number', { ...good, type: 7 }, 'u1', 'schema_mismatch'],
    ['ISO without offset', { ...good, occurredAt: '2026-01-01T08:00:00' }, 'u1', 'invalid_occurred_at'],
    ['missing eventId', { ...good, eventId: '' }, 'u1', 'missing_event_id'],
    ['missing userId', { ...good, userId: undefined }, 'u1', 'missing_user_id'],
    ['key differs from userId', good, 'u2', 'key_mismatch'],
    ['no key', good, null, 'key_mismatch'],
    ['empty value', '', 'u1', 'empty_value'],
  ];
  it.each(reasonCases)('%s → %s', async (_name, value, key, reason) => {
    const d = await decoder.decode(inputRecord(0, value, key));
    expect(d.kind).toBe('rejected');
    if (d.kind === 'rejected') expect(d.rejection.reason).toBe(reason);
  });

  it('refuses JSON that is not valid UTF-8 instead of replacing the bad bytes', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"eventId":"e1","userId":"u1","type":"checkin","occurredAt":1767225600000,"note":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    const d = await decoder.decode(inputRecord(0, bytes, 'u1'));
    expect(d.kind === 'rejected' && d.rejection.reason).toBe('malformed_json');
    const valid = Buffer.from('{"eventId":"e1","userId":"u1","type":"checkin","occurredAt":1767225600000,"note":"é"}');
    expect((await decoder.decode(inputRecord(0, valid, 'u1'))).kind).toBe('event');
  });

  it('refuses records over the size limit before parsing them', async () => {
    const big = { ...good, itemId: 'x'.repeat(rules.behavior.maxRecordBytes) };
    const d = await decoder.decode(inputRecord(0, big, 'u1'));
    expect(d.kind === 'rejected' && d.rejection.reason).toBe('record_too_large');
  });

  it('keeps the ids it could read on a rejection, for the dead letter', () => {
    const d = validateShape({ ...good, amountFen: 'ten' }, Buffer.from('u1'));
    expect(d).toMatchObject({ kind: 'rejected', eventId: 'e1', memberId: 'u1' });
  });

  it('parses event times strictly', () => {
    expect(parseEventTime(0)).toBe(0);
    expect(parseEventTime(1.5)).toBeNull();
    expect(parseEventTime(-1)).toBeNull();
    expect(parseEventTime('2026-03-01T00:00:00Z')).toBe(Date.UTC(2026, 2, 1));
    expect(parseEventTime('2026-03-01T00:00:00.123-05:00')).toBe(Date.UTC(2026, 2, 1, 5, 0, 0, 123));
    expect(parseEventTime('yesterday')).toBeNull();
    expect(parseEventTime('2024-02-30T00:00:00Z')).toBeNull();
    expect(parseEventTime('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(parseEventTime('2026-01-01T24:00:00Z')).toBeNull();
    expect(parseEventTime(253_402_300_800_000)).toBeNull();
  });
});
