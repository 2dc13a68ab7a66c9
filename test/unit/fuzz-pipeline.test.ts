import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActivityDecoder } from '../../services/behavior-events/decode.js';
import { reasons as behaviorReasons } from '../../services/behavior-events/reasons.js';
import { workerDefinition } from '../../services/index.js';
import { defaultLimits } from '../../shared/runtime/run-worker.js';
import { emptyRecord, encodeState, stepMember, type MemberRecord } from '../../shared/kernel/member-record.js';
import type { InputRecord, OutputEvent } from '../../shared/kernel/types.js';
import type { WorkerDefinition } from '../../shared/runtime/worker-definition.js';
import { avroType } from '../../shared/contracts/schemas.js';
import { activityTypes } from '../../shared/contracts/activity-event.js';
import { rules } from './fixtures.js';

/**
 * Fuzz of the whole path hostile input takes: bytes → behavior-events' decoder → its rules →
 * points-accrual → tier-evaluation, through the kernel's pure step, each output passed on as
 * the next worker would read it (Avro round trip). Asserts: nothing throws; every refusal has a
 * reason code of the contract; no refusal says "bug" (processing_error, invalid_output); every
 * member's state and bookkeeping stay within their limits. FUZZ_RUNS sets the sequences tried
 * (`npm test`: 150; `npm run fuzz`: 20,000).
 */
const runs = Number(process.env.FUZZ_RUNS ?? 150);
const limits = defaultLimits(rules);
const members = ['u1', 'u2', 'u3'];
const t0 = Date.UTC(2026, 0, 10, 4);

// Avro bodies as the registry would decode them: the real schema, whatever the schema id.
const registry = {
  // eslint-disable-next-line @typescript-eslint/require-await -- AvroDecoder.decode returns a Promise (a throw becomes a rejection)
  decode: async (b: Buffer): Promise<unknown> => avroType('activity.events').fromBuffer(b.subarray(5)),
};
const decoder = new ActivityDecoder(registry, () => rules);

const oddText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    'a\udfffb',
    '😀',
    'e\u0301',
    '\u202e',
    '"',
    '\\',
    '{"a":1}',
    '__proto__',
    'constructor',
    'x'.repeat(200),
    '9'.repeat(30),
  ),
  fc.nat({ max: 5 }).map((i) => `item-${i}`),
);
const oddNumber = fc.oneof(
  fc.integer({ min: -5, max: 100_000 }),
  fc.constantFrom(
    0,
    -0,
    -1,
    0.5,
    9.9,
    1e300,
    -1e300,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 63),
    2 ** 63,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const oddTime = fc.oneof(
  fc.integer({ min: t0 - 400 * 86_400_000, max: t0 + 600_000 }),
  fc.constantFrom(
    -1,
    0,
    253_402_300_799_999,
    253_402_300_800_000,
    '2026-01-10T04:00:00+08:00',
    '2026-02-30T00:00:00Z',
    '1969-12-31T23:59:59Z',
    'yesterday',
    '2026-01-10T24:00:00Z',
  ),
);
const anyValue = fc.oneof(
  oddText,
  oddNumber,
  fc.constant(null),
  fc.boolean(),
  fc.array(oddText, { maxLength: 3 }),
  fc.dictionary(oddText, oddText, { maxKeys: 3 }),
);

/** A valid event of any type (ids from small pools, so refunds, redemptions and referrals meet their originals). */
const eventId = fc.nat({ max: 40 }).map((i) => `e${i}`);
const validEvent = fc.record({
  eventId,
  userId: fc.constantFrom(...members),
  type: fc.constantFrom(...activityTypes),
  occurredAt: fc.integer({ min: t0 - 400 * 86_400_000, max: t0 }),
  amountFen: fc.integer({ min: 1, max: 500_000 }),
  itemId: fc.nat({ max: 5 }).map((i) => `item-${i}`),
  category: fc.constantFrom('math', 'art', null),
  plan: fc.constantFrom('monthly', 'annual'),
  periodEnd: fc.integer({ min: t0 + 1, max: t0 + 400 * 86_400_000 }),
  refundOf: eventId,
  seconds: fc.nat({ max: 7200 }),
  points: fc.integer({ min: 1, max: 5000 }),
  rewardId: fc.constantFrom('r1', 'r2'),
  redeemOf: eventId,
  referrerId: fc.option(fc.constantFrom(...members)),
  source: fc.constantFrom('app', null),
});
const fields = [
  'eventId',
  'userId',
  'type',
  'occurredAt',
  'amountFen',
  'itemId',
  'category',
  'plan',
  'periodEnd',
  'refundOf',
  'seconds',
  'points',
  'rewardId',
  'redeemOf',
  'referrerId',
  'source',
  'extra',
] as const;

/** A valid event, and now and then one or two fields swapped for odd values (or dropped). */
const nearlyValid = fc
  .tuple(
    validEvent,
    fc.array(fc.tuple(fc.constantFrom(...fields), fc.option(anyValue)), { maxLength: 2 }),
    fc.nat({ max: 2 }),
  )
  .map(([e, swaps, keep]) => {
    const out: Record<string, unknown> = { ...e };
    for (const [field, value] of keep === 0 ? swaps : []) {
      if (value === null) Reflect.deleteProperty(out, field);
      else out[field] = value;
    }
    return out;
  });

type Input = { bytes: Buffer; key: string | null };
// JSON.stringify answers undefined for undefined, though typed string.
const asJson = (v: unknown, key: string | null): Input => ({
  bytes: Buffer.from((JSON.stringify(v) as string | undefined) ?? 'null'),
  key,
});
const input: fc.Arbitrary<Input> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .tuple(nearlyValid, fc.nat({ max: 9 }))
      .map(([e, k]) => asJson(e, k > 0 ? (typeof e.userId === 'string' ? e.userId : null) : 'u9')),
  },
  { weight: 2, arbitrary: fc.tuple(validEvent, oddTime).map(([e, at]) => asJson({ ...e, occurredAt: at }, e.userId)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => ({ bytes: Buffer.from(b), key: 'u1' })) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }).map((t) => ({ bytes: Buffer.from(t), key: 'u1' })) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 30_000 }), fc.constantFrom('[', '{"a":')).map(([n, open]) => ({
      bytes: Buffer.from(
        `{"eventId":"d","userId":"u1","type":"checkin","occurredAt":1,"category":${open.repeat(n)}1${(open === '[' ? ']' : '}').repeat(n)}}`,
      ),
      key: 'u1',
    })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 100_000 }).map((n) =>
      asJson(
        {
          eventId: 'big',
          userId: 'u1',
          type: 'purchase',
          occurredAt: t0,
          amountFen: 100,
          itemId: 'x'.repeat(n),
          category: 'c',
        },
        'u1',
      ),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('amountFen', 'userId', 'type', 'eventId'), oddText).map(([k, v]) => ({
      bytes: Buffer.from(
        `{"eventId":"dup","userId":"u1","type":"purchase","occurredAt":${t0},"itemId":"i","amountFen":100,${JSON.stringify(k)}:${JSON.stringify(v)}}`,
      ),
      key: 'u1',
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 200 })
      .map((b) => ({ bytes: Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from(b)]), key: 'u1' })),
  },
);

const contractReasons: Record<string, Set<string>> = {
  'behavior-events': new Set([...Object.values(behaviorReasons), 'state_too_large']),
};
const bugReasons = new Set(['processing_error', 'invalid_output']);

interface Stage {
  worker: WorkerDefinition<unknown, unknown>;
  records: Map<string, MemberRecord<unknown>>;
  offset: number;
}
const stage = (name: string): Stage => ({ worker: workerDefinition(name), records: new Map(), offset: 0 });

/** One input through one worker's kernel step; returns its outputs. */
function step(
  s: Stage,
  memberId: string,
  eventId: string,
  event: unknown,
  topic: string,
  timestamp: number,
): OutputEvent[] {
  const record: InputRecord = {
    topic,
    partition: 0,
    offset: String(s.offset++),
    timestamp,
    key: Buffer.from(memberId),
    value: null,
  };
  const current = s.records.get(memberId) ?? emptyRecord();
  const r = stepMember(
    s.worker,
    current,
    { record, eventId, memberId, event },
    { rules, record: { timestamp, sizeBytes: 100, topic, partition: 0, offset: record.offset } },
    limits,
  );
  if (r.rejection) {
    expect(r.rejection.reason, `${s.worker.name} refused ${eventId}`).toMatch(/^[a-z_]+$/);
    expect(bugReasons.has(r.rejection.reason), `${s.worker.name}: ${r.rejection.reason}`).toBe(false);
  }
  s.records.set(memberId, { ...r.record, outbox: [] });
  const state = r.record.state;
  if (state !== null) expect(Buffer.byteLength(encodeState(s.worker, state))).toBeLessThanOrEqual(limits.maxStateBytes);
  expect(r.record.recentIds.length).toBeLessThanOrEqual(limits.recentIds);
  return r.outputs;
}

/** An output as its reader decodes it: through its topic's Avro schema. */
const reread = (o: OutputEvent) =>
  avroType(o.topic).fromBuffer(avroType(o.topic).toBuffer(o.value)) as Record<string, unknown>;

describe('fuzz: hostile input through decode → behavior-events → points-accrual → tier-evaluation', () => {
  it(`never throws, refuses with a contract reason, never reports a bug, keeps states bounded (${runs} sequences)`, async () => {
    const reached = { refused: 0, behavior: 0, ledger: 0, tier: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(input, { minLength: 1, maxLength: 40, size: 'max' }), async (inputs) => {
        const behavior = stage('behavior-events');
        const points = stage('points-accrual');
        const tiers = stage('tier-evaluation');
        let ts = t0;
        for (const { bytes, key } of inputs) {
          ts += 60_000;
          const decoded = await decoder.decode({
            topic: 'f.activity.events',
            partition: 0,
            offset: String(behavior.offset),
            timestamp: ts,
            key: key === null ? null : Buffer.from(key),
            value: bytes,
          });
          if (decoded.kind === 'rejected') {
            reached.refused++;
            expect(contractReasons['behavior-events']!.has(decoded.rejection.reason), decoded.rejection.reason).toBe(
              true,
            );
            behavior.offset++;
            continue;
          }
          for (const out of step(behavior, decoded.memberId, decoded.eventId, decoded.event, 'f.activity.events', ts)) {
            if (out.topic !== 'behavior.events') continue;
            reached.behavior++;
            const v = reread(out);
            for (const entry of step(points, out.key, out.id, v, 'f.behavior.events', ts)) {
              if (entry.topic !== 'points.ledger') continue;
              reached.ledger++;
              reached.tier += step(tiers, entry.key, entry.id, reread(entry), 'f.points.ledger', ts).length;
            }
          }
        }
      }),
      { numRuns: runs },
    );
    // The fuzz reaches every stage: refusals, accepted events, ledger entries and tier decisions.
    expect(reached.refused).toBeGreaterThan(runs);
    expect(reached.behavior).toBeGreaterThan(runs);
    expect(reached.ledger).toBeGreaterThan(runs / 4);
    expect(reached.tier).toBeGreaterThan(0);
  }, 600_000);
});
