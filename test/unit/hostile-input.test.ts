import { describe, expect, it } from 'vitest';
import { ActivityDecoder, jsonNestingDepth, maxJsonDepth } from '../../services/behavior-events/decode.js';
import { decideBehavior } from '../../services/behavior-events/decide.js';
import { newProfile } from '../../services/behavior-events/profile.js';
import { decodeSafely } from '../../shared/kernel/decode-safely.js';
import { AvroInputDecoder } from '../../shared/registry/avro-input-decoder.js';
import type { InputDecoder, InputRecord } from '../../shared/kernel/types.js';
import { activity, rules } from './fixtures.js';

const secret = '4111111111111111';
const record = (value: string | Buffer, key = 'u1'): InputRecord => ({
  topic: 't.activity.events',
  partition: 0,
  offset: '0',
  timestamp: Date.UTC(2026, 1, 1),
  key: Buffer.from(key),
  value: Buffer.isBuffer(value) ? value : Buffer.from(value),
});
const failingAvro = {
  decode: () => Promise.reject(new Error(`cannot read ${secret}`)),
};
const decoder = new ActivityDecoder(failingAvro, () => rules);
const base = {
  eventId: 'e1',
  userId: 'u1',
  type: 'purchase',
  occurredAt: Date.UTC(2026, 0, 1),
  amountFen: 100,
  itemId: 'c1',
  category: 'x',
};

describe('hostile input: a poison pill is refused, not thrown', () => {
  it('refuses a category of 6,000 nested arrays (12 KB) with nesting_too_deep, before any recursion', async () => {
    for (const depth of [maxJsonDepth + 1, 6_000, 30_000]) {
      const value = `{"eventId":"e1","userId":"u1","type":"purchase","occurredAt":1,"category":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      const d = await decoder.decode(record(value));
      expect(d.kind).toBe('rejected');
      if (d.kind === 'rejected')
        expect(d.rejection.reason, `depth ${depth}`).toBe(
          depth * 2 > rules.behavior.maxRecordBytes ? 'record_too_large' : 'nesting_too_deep',
        );
    }
  });

  it('counts nesting outside strings only, escapes included', () => {
    expect(jsonNestingDepth(Buffer.from('{"a":["[[[[", "\\"[[["]}'), 99)).toBe(2);
    expect(jsonNestingDepth(Buffer.from('[[[]]]'), 99)).toBe(3);
    expect(jsonNestingDepth(Buffer.from('[[[[[[]]]]]]'), 2)).toBe(3);
  });

  it('a decoder that throws refuses that record with processing_error; registry trouble is still thrown, to be retried', async () => {
    const throwing: InputDecoder<never> = {
      decode: () => Promise.reject(new RangeError(`Maximum call stack size exceeded near ${secret}`)),
    };
    const seen: Error[] = [];
    const d = await decodeSafely(throwing, record('{}'), (e) => seen.push(e));
    expect(d).toMatchObject({ kind: 'rejected', rejection: { reason: 'processing_error' } });
    if (d.kind === 'rejected') expect(d.rejection.message).not.toContain(secret);
    expect(seen.map((e) => e.name)).toEqual(['RangeError']);
    const unreachable: InputDecoder<never> = {
      decode: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    };
    await expect(decodeSafely(unreachable, record('{}'), () => undefined)).rejects.toThrow('ECONNREFUSED');
    const status: InputDecoder<never> = {
      decode: () => Promise.reject(Object.assign(new Error('registry 503'), { status: 503 })),
    };
    await expect(decodeSafely(status, record('{}'), () => undefined)).rejects.toThrow('503');
  });
});

describe('hostile input: dead-letter texts name the field and the rule, never the value', () => {
  const shapes: [string, string | Buffer][] = [
    ['not JSON', `card ${secret}`],
    ['not UTF-8', Buffer.concat([Buffer.from(`{"eventId":"${secret}`), Buffer.from([0xff, 0xfe])])],
    ['bad occurredAt', JSON.stringify({ ...base, occurredAt: `card ${secret}` })],
    ['occurredAt before 1970', JSON.stringify({ ...base, occurredAt: `1969-12-31T23:59:59Z ${secret}` })],
    ['wrong type of a field', JSON.stringify({ ...base, category: { card: secret } })],
    ['number for a string', JSON.stringify({ ...base, itemId: Number(secret) })],
    ['Avro body that does not decode', Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), Buffer.from(secret)])],
  ];
  it.each(shapes)('%s', async (_name, value) => {
    const d = await decoder.decode(record(value));
    expect(d.kind).toBe('rejected');
    if (d.kind === 'rejected') {
      expect(d.rejection.message).not.toContain(secret);
      expect(d.rejection.message).not.toContain('4111');
    }
  });

  it("the internal topics' decoder does not quote an Avro error either", async () => {
    const d = await new AvroInputDecoder(failingAvro).decode(
      record(Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), Buffer.from(secret)])),
    );
    expect(d.kind === 'rejected' && d.rejection.message).not.toContain(secret);
  });

  const ts = Date.UTC(2026, 1, 1, 4);
  const ctx = { rules, record: { timestamp: ts, sizeBytes: 100, topic: 't', partition: 0, offset: '0' } };
  const meaning: [string, Omit<Parameters<typeof activity>[0], 'eventId' | 'userId'>][] = [
    ['unknown type', { type: `teleport ${secret}` }],
    ['amount above ceiling', { type: 'purchase', itemId: 'c1', amountFen: Number(secret) }],
    ['negative amount', { type: 'purchase', itemId: 'c1', amountFen: -Number(secret) }],
    ['points out of range', { type: 'redeem', rewardId: 'r', points: Number(secret) }],
    ['negative seconds', { type: 'lesson_complete', itemId: 'l', seconds: -Number(secret) }],
    ['bad plan', { type: 'subscription', plan: `weekly ${secret}`, amountFen: 100, periodEnd: ts + 1 }],
    ['refund of an unknown payment', { type: 'refund', amountFen: 100, refundOf: `pay-${secret}` }],
    ['far future', { type: 'checkin', occurredAt: ts + Number(secret) }],
  ];
  it.each(meaning)('%s', (_name, fields) => {
    const d = decideBehavior(newProfile(), activity({ eventId: 'e', userId: 'u1', ...fields }), ctx);
    expect(d.kind).toBe('rejected');
    if (d.kind === 'rejected') expect(d.rejection.message).not.toMatch(/4111|111111/);
  });
});

describe('hostile input: what JSON.parse and Avro would let through silently', () => {
  it('refuses an object with the same key twice (JSON.parse keeps the last), escapes resolved', async () => {
    const twice =
      '{"eventId":"e1","userId":"u1","type":"purchase","occurredAt":1,"amountFen":100,"itemId":"c1","amountFen":1}';
    const d = await decoder.decode(record(twice));
    expect(d).toMatchObject({ kind: 'rejected', rejection: { reason: 'duplicate_key' } });
    if (d.kind === 'rejected') expect(d.rejection.message).toContain('amountFen');
    const escaped = await decoder.decode(
      record('{"eventId":"e1","userId":"u1","\\u0075serId":"u2","type":"checkin","occurredAt":1}'),
    );
    expect(escaped).toMatchObject({ kind: 'rejected', rejection: { reason: 'duplicate_key' } });
    // Equal keys in different objects, and key-like text inside strings, are fine.
    const fine = await decoder.decode(record(JSON.stringify({ ...base, source: '"eventId":1', category: '{"x":1}' })));
    expect(fine.kind).toBe('event');
  });

  it('refuses a lone surrogate, which Avro would write as U+FFFD', async () => {
    for (const value of [
      JSON.stringify({ ...base, category: 'ok\ud800' }),
      '{"eventId":"e1","userId":"u1","type":"checkin","occurredAt":1,"source":"a\\udfffb"}',
    ]) {
      const d = await decoder.decode(record(value));
      expect(d).toMatchObject({ kind: 'rejected', rejection: { reason: 'schema_mismatch' } });
      if (d.kind === 'rejected') expect(d.rejection.message).toMatch(/(category|source) must be well-formed Unicode/);
    }
    expect((await decoder.decode(record(JSON.stringify({ ...base, category: 'emoji 😀' })))).kind).toBe('event');
  });

  it('says what the time rule is for a time before 1970', async () => {
    const d = await decoder.decode(record(JSON.stringify({ ...base, occurredAt: '1969-12-31T23:59:59Z' })));
    expect(d).toMatchObject({ kind: 'rejected', rejection: { reason: 'invalid_occurred_at' } });
    if (d.kind === 'rejected') expect(d.rejection.message).toContain('between 1970-01-01 and 9999-12-31');
  });

  it("keys a key_mismatch dead letter by the record key, never by the payload's userId", async () => {
    const d = await decoder.decode(record(JSON.stringify({ ...base, userId: 'victim' }), 'attacker'));
    expect(d).toMatchObject({ kind: 'rejected', rejection: { reason: 'key_mismatch' }, memberId: null, eventId: 'e1' });
  });
});
