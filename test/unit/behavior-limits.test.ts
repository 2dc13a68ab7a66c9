import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ActivityDecoder, validateShape } from '../../services/behavior-events/decode.js';
import { decideBehavior } from '../../services/behavior-events/decide.js';
import { idFields, type IdField } from '../../services/behavior-events/limits.js';
import {
  dailyCountDaysKept,
  eventsOnDay,
  newProfile,
  type MemberProfile,
} from '../../services/behavior-events/profile.js';
import { reasons } from '../../services/behavior-events/reasons.js';
import { defaultRulesPath, parseRules, type Rules } from '../../shared/config/rules.js';
import { deadLetter } from '../../shared/kernel/dead-letter.js';
import type { ActivityEvent } from '../../shared/contracts/activity-event.js';
import { localDay } from '../../shared/util/time.js';
import { activity, inputRecord, rules } from './fixtures.js';

const noAvro = {
  decode: () => Promise.reject(new Error('no registry in unit tests')),
};
const decoder = new ActivityDecoder(noAvro, () => rules);
const max = rules.behavior.maxIdBytes;

/** A valid checkin with one id-like field replaced; the record key follows userId. */
function withField(field: IdField, value: string) {
  const e: Record<string, unknown> = {
    eventId: 'e1',
    userId: 'u1',
    type: 'checkin',
    occurredAt: Date.UTC(2026, 0, 10, 4),
  };
  e[field] = value;
  return inputRecord(0, e, e.userId as string);
}

/** `bytes` UTF-8 bytes made of a repeated unit (its own byte width), then ASCII filler. */
function ofBytes(bytes: number, unit = 'k'): string {
  const width = Buffer.byteLength(unit, 'utf8');
  const s = unit.repeat(Math.floor(bytes / width)) + 'k'.repeat(bytes % width);
  expect(Buffer.byteLength(s, 'utf8')).toBe(bytes);
  return s;
}

describe('behavior-events limits: id lengths (behavior.maxIdBytes)', () => {
  it('has the documented default and bounds every id-like string of the contract', () => {
    expect(max).toBe(128);
    expect([...idFields].sort()).toEqual([
      'category',
      'eventId',
      'itemId',
      'plan',
      'redeemOf',
      'referrerId',
      'refundOf',
      'rewardId',
      'source',
      'userId',
    ]);
  });

  const units: [string, string][] = [
    ['ASCII', 'k'],
    ['2-byte é', 'é'],
    ['3-byte 中', '中'],
    ['4-byte 😀 (a surrogate pair)', '😀'],
  ];
  const cases = idFields.flatMap((field) => units.map(([name, unit]) => [field, name, unit] as const));

  it.each(cases)('%s, %s: exactly at the limit is accepted', async (field, _name, unit) => {
    const d = await decoder.decode(withField(field, ofBytes(max, unit)));
    expect(d.kind).toBe('event');
  });

  it.each(cases)('%s, %s: one byte over is refused with id_too_long', async (field, _name, unit) => {
    const value = ofBytes(max + 1, unit);
    const d = await decoder.decode(withField(field, value));
    expect(d.kind).toBe('rejected');
    if (d.kind !== 'rejected') return;
    expect(d.rejection.reason).toBe(reasons.idTooLong);
    expect(d.rejection.reason).toBe('id_too_long');
    expect(d.rejection.message).toContain(field);
    expect(d.rejection.message).toContain('behavior.maxIdBytes');
    expect(d.rejection.message).not.toContain(unit.repeat(4));
    expect(d.rejection.message).not.toContain(value);
  });

  it('counts bytes, not characters: 43 three-byte characters are over 128 bytes', async () => {
    const value = '中'.repeat(43);
    expect(value.length).toBeLessThan(max);
    const d = await decoder.decode(withField('itemId', value));
    expect(d.kind === 'rejected' && d.rejection.reason).toBe('id_too_long');
  });

  it('never quotes the value in the message', async () => {
    const secret = 'secret-token-'.repeat(20);
    for (const field of idFields) {
      const d = await decoder.decode(withField(field, secret));
      expect(d.kind === 'rejected' && d.rejection.reason).toBe('id_too_long');
      if (d.kind === 'rejected') {
        expect(d.rejection.message).not.toMatch(/secret|token/);
        expect(d.rejection.message).toBe(
          `${field} is ${Buffer.byteLength(secret)} bytes of UTF-8, over behavior.maxIdBytes (${max})`,
        );
      }
    }
  });

  it('a 60 KB userId is refused cleanly: the dead letter does not carry it as userId', async () => {
    const huge = 'u'.repeat(60_000);
    const record = withField('userId', huge);
    const d = await decoder.decode(record);
    expect(d).toMatchObject({ kind: 'rejected', rejection: { reason: 'id_too_long' }, eventId: 'e1', memberId: null });
    if (d.kind !== 'rejected') return;
    expect(d.rejection.message.length).toBeLessThan(200);
    const dlq = deadLetter('behavior-events', record, d.rejection, d);
    expect(dlq.value.userId).toBeNull();
    expect(dlq.value.eventId).toBe('e1');
  });

  it('an over-long eventId is refused and left out of the dead letter; the member id stays', async () => {
    const d = await decoder.decode(withField('eventId', 'e'.repeat(60_000)));
    expect(d).toMatchObject({ kind: 'rejected', rejection: { reason: 'id_too_long' }, eventId: null, memberId: 'u1' });
  });

  it('an over-long other id keeps both ids for the dead letter', async () => {
    const d = await decoder.decode(withField('referrerId', 'r'.repeat(max + 1)));
    expect(d).toMatchObject({ kind: 'rejected', rejection: { reason: 'id_too_long' }, eventId: 'e1', memberId: 'u1' });
  });

  it('refusals for other reasons drop over-long ids too', () => {
    const long = 'x'.repeat(max + 1);
    const badTime = validateShape(
      { eventId: long, userId: long, type: 'checkin', occurredAt: 'yesterday' },
      Buffer.from(long),
      max,
    );
    expect(badTime).toMatchObject({
      kind: 'rejected',
      rejection: { reason: 'invalid_occurred_at' },
      eventId: null,
      memberId: null,
    });
    const noEvent = validateShape({ userId: long, type: 'checkin', occurredAt: 1 }, Buffer.from(long), max);
    expect(noEvent).toMatchObject({ kind: 'rejected', rejection: { reason: 'missing_event_id' }, memberId: null });
  });

  it('checks ids before the key, so an over-long userId is never a key_mismatch keyed by it', async () => {
    const long = 'u'.repeat(max + 1);
    const d = await decoder.decode(
      inputRecord(0, { eventId: 'e1', userId: long, type: 'checkin', occurredAt: 1 }, 'other'),
    );
    expect(d).toMatchObject({ kind: 'rejected', rejection: { reason: 'id_too_long' }, memberId: null });
  });

  it('null optional ids and wrong types are not its business', async () => {
    expect(
      (
        await decoder.decode(
          inputRecord(0, { eventId: 'e1', userId: 'u1', type: 'checkin', occurredAt: 1, itemId: null }, 'u1'),
        )
      ).kind,
    ).toBe('event');
    const d = await decoder.decode(
      inputRecord(0, { eventId: 'e1', userId: 'u1', type: 'checkin', occurredAt: 1, itemId: 7 }, 'u1'),
    );
    expect(d.kind === 'rejected' && d.rejection.reason).toBe('schema_mismatch');
  });

  it('follows the rules the decoder is given', async () => {
    const tight = new ActivityDecoder(noAvro, () => withBehavior({ maxIdBytes: 16 }));
    expect((await tight.decode(withField('itemId', ofBytes(16)))).kind).toBe('event');
    expect((await tight.decode(withField('itemId', ofBytes(17)))).kind).toBe('rejected');
  });
});

function withBehavior(b: Partial<Rules['behavior']>): Rules {
  return { ...rules, behavior: { ...rules.behavior, ...b } };
}

// Records are stamped well after every event, so the future-skew rule never interferes.
const recordTs = Date.UTC(2030, 0, 1);
const ctxFor = (r: Rules) => ({
  rules: r,
  record: { timestamp: recordTs, sizeBytes: 100, topic: 'test', partition: 0, offset: '0' },
});

/** Noon on day `d` of January 2026 in Shanghai (rules.timeZone), plus `minute` minutes. */
const at = (d: number, minute = 0) => Date.UTC(2026, 0, d, 4, minute);

let seq = 0;
const checkin = (occurredAt: number): ActivityEvent =>
  activity({ eventId: `e${seq++}`, userId: 'u1', type: 'checkin', occurredAt });

/** Decide each event in turn, keeping state on rejection as the kernel does. */
function run(events: ActivityEvent[], r: Rules, start: MemberProfile = newProfile()) {
  let state = start;
  const results: string[] = [];
  for (const e of events) {
    const d = decideBehavior(state, e, ctxFor(r));
    if (d.kind === 'applied') {
      state = d.state;
      results.push('applied');
    } else results.push(d.rejection.reason);
  }
  return { state, results };
}

describe('behavior-events limits: events per member per local day (behavior.maxEventsPerMemberPerDay)', () => {
  const cap = 3;
  const r = withBehavior({ maxEventsPerMemberPerDay: cap });

  it('has the documented default, above 4x the busiest Online Retail member-day (541)', () => {
    expect(rules.behavior.maxEventsPerMemberPerDay).toBe(2_500);
    expect(rules.behavior.maxEventsPerMemberPerDay).toBeGreaterThanOrEqual(4 * 541);
  });

  it('accepts the Nth event of a day and refuses the N+1th with daily_event_limit, without changing state', () => {
    const first = run([checkin(at(10)), checkin(at(10, 1)), checkin(at(10, 2))], r);
    expect(first.results).toEqual(['applied', 'applied', 'applied']);
    const over = decideBehavior(first.state, checkin(at(10, 3)), ctxFor(r));
    expect(over.kind).toBe('rejected');
    if (over.kind === 'rejected') expect(over.rejection.reason).toBe(reasons.dailyEventLimit);
    expect(reasons.dailyEventLimit).toBe('daily_event_limit');
    // Repeated refusals stay refusals: nothing was counted.
    expect(run([checkin(at(10, 4)), checkin(at(10, 5))], r, first.state).results).toEqual([
      'daily_event_limit',
      'daily_event_limit',
    ]);
  });

  it('counts every accepted type and the next local day starts again', () => {
    const events = [
      activity({ eventId: 'p', userId: 'u1', type: 'purchase', itemId: 'c1', amountFen: 100, occurredAt: at(10) }),
      activity({ eventId: 'v', userId: 'u1', type: 'content_view', itemId: 'c1', occurredAt: at(10, 1) }),
      activity({ eventId: 'r', userId: 'u1', type: 'refund', refundOf: 'p', amountFen: 50, occurredAt: at(10, 2) }),
      checkin(at(10, 3)),
      checkin(at(11)),
    ];
    expect(run(events, r).results).toEqual(['applied', 'applied', 'applied', 'daily_event_limit', 'applied']);
  });

  it('uses the local day of rules.timeZone (Shanghai midnight is 16:00 UTC), from event time only', () => {
    const late = Date.UTC(2026, 0, 10, 15, 59, 59, 999); // 23:59:59.999 on the 10th in Shanghai
    const next = Date.UTC(2026, 0, 10, 16, 0, 0); // 00:00 on the 11th in Shanghai, same UTC day
    const { results } = run([checkin(late), checkin(late), checkin(late), checkin(next), checkin(late)], r);
    expect(results).toEqual(['applied', 'applied', 'applied', 'applied', 'daily_event_limit']);
    const london = withBehavior({ maxEventsPerMemberPerDay: cap });
    london.timeZone = 'Europe/London';
    expect(run([checkin(late), checkin(late), checkin(late), checkin(next)], london).results).toEqual([
      'applied',
      'applied',
      'applied',
      'daily_event_limit',
    ]);
  });

  it('the message names the field and the rule, not the member, event or day', () => {
    const { state } = run([checkin(at(10)), checkin(at(10)), checkin(at(10))], r);
    const e = activity({ eventId: 'evt-XYZ', userId: 'member-ABC', type: 'checkin', occurredAt: at(10) });
    const d = decideBehavior(state, e, ctxFor(r));
    expect(d.kind).toBe('rejected');
    if (d.kind !== 'rejected') return;
    expect(d.rejection.message).toContain('occurredAt');
    expect(d.rejection.message).toContain('behavior.maxEventsPerMemberPerDay');
    expect(d.rejection.message).not.toMatch(/evt-XYZ|member-ABC|2026|1768/);
  });

  it('refuses a late event for a kept day that is full, and counts a late event for a kept or never-seen day', () => {
    const base = run([checkin(at(10)), checkin(at(10)), checkin(at(10)), checkin(at(12)), checkin(at(14))], r);
    expect(base.results.every((x) => x === 'applied')).toBe(true);
    // Day 10 is kept and full: a late event for it is refused.
    expect(run([checkin(at(10, 30))], r, base.state).results).toEqual(['daily_event_limit']);
    // Day 11 was never seen (nothing was forgotten yet): counted from zero, up to the cap.
    const day11 = run([checkin(at(11)), checkin(at(11)), checkin(at(11)), checkin(at(11))], r, base.state);
    expect(day11.results).toEqual(['applied', 'applied', 'applied', 'daily_event_limit']);
    // An older day, while fewer than dailyCountDaysKept are kept: counted too.
    const day1 = run([checkin(at(1)), checkin(at(1)), checkin(at(1)), checkin(at(1))], r, base.state);
    expect(day1.results).toEqual(['applied', 'applied', 'applied', 'daily_event_limit']);
  });

  it('accepts, without counting, a late event for a day older than every kept day once days were forgotten', () => {
    expect(dailyCountDaysKept).toBe(7);
    const days = Array.from({ length: 10 }, (_, i) => 10 + i); // Jan 10..19: 10, 11, 12 are forgotten
    const { state } = run(
      days.map((d) => checkin(at(d))),
      r,
    );
    expect(state.dailyEvents!.map(([d]) => d)).toEqual(days.slice(-7).map((d) => localDay(at(d), r.timeZone)));
    expect(eventsOnDay(state, localDay(at(12), r.timeZone))).toBeNull();
    // Day 12 (forgotten) and day 5 (older still): accepted and not counted, however many.
    const late = run(
      [...Array.from({ length: 5 }, () => checkin(at(12))), ...Array.from({ length: 5 }, () => checkin(at(5)))],
      r,
      state,
    );
    expect(late.results.every((x) => x === 'applied')).toBe(true);
    expect(late.state.dailyEvents).toEqual(state.dailyEvents);
    // A kept day still counts exactly: day 13 has one event already.
    expect(run([checkin(at(13)), checkin(at(13)), checkin(at(13))], r, state).results).toEqual([
      'applied',
      'applied',
      'daily_event_limit',
    ]);
  });

  it('keeps the state bounded and decisions deterministic over many days', () => {
    const events = Array.from({ length: 400 }, (_, d) => [
      checkin(Date.UTC(2025, 0, 1 + d, 4)),
      checkin(Date.UTC(2025, 0, 1 + d, 5)),
    ]).flat();
    const a = run(events, r);
    const b = run(events, r);
    expect(a).toEqual(b);
    expect(a.state.dailyEvents).toHaveLength(dailyCountDaysKept);
    expect(a.state.dailyEvents!.every(([, n]) => n === 2)).toBe(true);
    const lastDay = localDay(Date.UTC(2025, 0, 400, 4), r.timeZone);
    expect(a.state.dailyEvents!.map(([d]) => d)).toEqual(Array.from({ length: 7 }, (_, i) => lastDay - 6 + i));
    expect(JSON.stringify(a.state.dailyEvents).length).toBeLessThan(200);
  });

  it('reads a profile stored before the limit existed (no dailyEvents) as having counted nothing', () => {
    const { dailyEvents: _dropped, ...old } = newProfile();
    const legacy = old as unknown as MemberProfile;
    const { state, results } = run([checkin(at(10)), checkin(at(10)), checkin(at(10)), checkin(at(10))], r, legacy);
    expect(results).toEqual(['applied', 'applied', 'applied', 'daily_event_limit']);
    expect(state.dailyEvents).toEqual([[localDay(at(10), r.timeZone), 3]]);
  });

  it('other reasons win over the cap, and refused events are not counted', () => {
    const { state } = run([checkin(at(10)), checkin(at(10))], r);
    const bad = activity({
      eventId: 'bad',
      userId: 'u1',
      type: 'purchase',
      itemId: 'c',
      amountFen: -1,
      occurredAt: at(10),
    });
    expect(run([bad, checkin(at(10)), bad], r, state).results).toEqual(['invalid_amount', 'applied', 'invalid_amount']);
  });

  it('with the default rules: the 2,500th event of a day is accepted, the 2,501st refused', () => {
    const n = rules.behavior.maxEventsPerMemberPerDay;
    let state = newProfile();
    const ctx = ctxFor(rules);
    for (let i = 0; i < n; i++) {
      const d = decideBehavior(state, checkin(at(10, i % 600)), ctx);
      if (d.kind !== 'applied') throw new Error(`event ${i + 1} refused: ${d.rejection.reason}`);
      state = d.state;
    }
    const d = decideBehavior(state, checkin(at(10, 601)), ctx);
    expect(d.kind === 'rejected' && d.rejection.reason).toBe('daily_event_limit');
  });
});

describe('behavior-events limits: rules', () => {
  const raw = () => JSON.parse(readFileSync(defaultRulesPath, 'utf8')) as { behavior: Record<string, unknown> };

  it('defaults both settings when a rules file leaves them out', () => {
    const r = raw();
    delete r.behavior.maxIdBytes;
    delete r.behavior.maxEventsPerMemberPerDay;
    const parsed = parseRules(r, 'test');
    expect(parsed.behavior.maxIdBytes).toBe(128);
    expect(parsed.behavior.maxEventsPerMemberPerDay).toBe(2_500);
  });

  it.each([
    ['maxIdBytes', 0],
    ['maxIdBytes', 1.5],
    ['maxIdBytes', 100_000],
    ['maxEventsPerMemberPerDay', 0],
    ['maxEventsPerMemberPerDay', -1],
  ])('refuses behavior.%s = %s', (key, value) => {
    const r = raw();
    r.behavior[key] = value;
    expect(() => parseRules(r, 'test')).toThrow(`behavior.${key}`);
  });
});
