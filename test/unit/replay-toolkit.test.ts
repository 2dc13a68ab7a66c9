import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { diffOutputs, diffStates, headline, type DiffReport } from '../../cli/commands/replay/diff.js';
import { selectDeadLetters, type DeadLetterView } from '../../cli/commands/replay/dlq.js';
import { dlqFilter, formatDiff } from '../../cli/commands/replay/commands.js';
import { ReplayRefused } from '../../cli/commands/replay/shared.js';
import { ConfigError } from '../../shared/config/env.js';
import { formatPlan, refusalsOf, type PlanFacts, type ReplayPlan } from '../../shared/replay/plan.js';
import type { ReplayMeta } from '../../shared/replay/meta.js';
import { parseStartPoint, planRanges, StartPointError, type StartPoint } from '../../shared/replay/positions.js';
import { initialPointsState, type PointsState } from '../../services/points-accrual/state.js';
import { initialTierState, type TierState } from '../../services/tier-evaluation/state.js';

// ---------------------------------------------------------------------------------------------
// refusalsOf
// ---------------------------------------------------------------------------------------------

const cleanFacts: PlanFacts = {
  worker: 'points-accrual',
  knownWorkers: ['behavior-events', 'points-accrual', 'tier-evaluation'],
  liveNamespace: 'prod',
  liveStateNamespace: 'prod',
  namespace: 'r1',
  existingTopics: [],
  redisKeysInUse: false,
  existingReplay: null,
  groupMembers: 0,
  liveGroupMembers: 3,
};

const facts = (over: Partial<PlanFacts>): PlanFacts => ({ ...cleanFacts, ...over });
const codes = (f: PlanFacts) => refusalsOf(f).map((r) => r.code);

const meta: ReplayMeta = {
  worker: 'tier-evaluation',
  liveNamespace: 'prod',
  namespace: 'r1',
  from: 'beginning',
  ranges: [],
  follow: false,
  rules: '{}',
  rulesVersion: 'v1',
  createdAt: 1,
  status: 'done',
};

describe('refusalsOf', () => {
  it('refuses nothing for a clean plan (live workers running is not a refusal)', () => {
    expect(refusalsOf(cleanFacts)).toEqual([]);
  });

  it('unknown_worker alone, naming the known workers', () => {
    const r = refusalsOf(facts({ worker: 'pointz' }));
    expect(r).toEqual([
      { code: 'unknown_worker', message: 'no worker pointz; known: behavior-events, points-accrual, tier-evaluation' },
    ]);
  });

  it.each([
    ['', true],
    ['-r1', true],
    ['_r1', true],
    ['r.1', true],
    ['r 1', true],
    ['r/1', true],
    ['r:1', true],
    ['a'.repeat(101), true],
    ['a'.repeat(100), false],
    ['R', false],
    ['9', false],
    ['replay_2024-01-02', false],
  ])('invalid_namespace for %j: %s', (namespace, refused) => {
    expect(codes(facts({ namespace }))).toEqual(refused ? ['invalid_namespace'] : []);
  });

  it('the invalid_namespace message quotes the namespace', () => {
    expect(refusalsOf(facts({ namespace: 'a.b' }))[0]!.message).toBe(
      'namespace "a.b": letters, digits, - and _ only (it prefixes topics, groups and Redis keys)',
    );
  });

  it('namespace_is_live when the namespace is the live topic namespace', () => {
    expect(refusalsOf(facts({ namespace: 'prod' }))).toEqual([
      { code: 'namespace_is_live', message: 'prod holds the live topics: a replay must write elsewhere' },
    ]);
  });

  it('namespace_is_live when the namespace holds the live state after a promote, with a distinct message', () => {
    const promoted = facts({ liveStateNamespace: 'r0', namespace: 'r0' });
    expect(refusalsOf(promoted)).toEqual([
      { code: 'namespace_is_live', message: 'r0 holds the live state: a replay must write elsewhere' },
    ]);
    // and the topic namespace is still refused after a promote, as topics
    expect(refusalsOf(facts({ liveStateNamespace: 'r0', namespace: 'prod' }))).toEqual([
      { code: 'namespace_is_live', message: 'prod holds the live topics: a replay must write elsewhere' },
    ]);
    // a namespace that is neither is fine
    expect(refusalsOf(facts({ liveStateNamespace: 'r0', namespace: 'r1' }))).toEqual([]);
  });

  it('namespace_in_use for existing topics alone', () => {
    expect(refusalsOf(facts({ existingTopics: ['r1.points.ledger', 'r1.member.tiers'] }))).toEqual([
      {
        code: 'namespace_in_use',
        message: 'namespace r1 is in use (2 topic(s) such as r1.points.ledger): choose a new one',
      },
    ]);
  });

  it('namespace_in_use for Redis keys alone', () => {
    expect(refusalsOf(facts({ redisKeysInUse: true }))).toEqual([
      { code: 'namespace_in_use', message: 'namespace r1 is in use (Redis keys): choose a new one' },
    ]);
  });

  it('namespace_in_use for both, once', () => {
    expect(refusalsOf(facts({ existingTopics: ['r1.points.ledger'], redisKeysInUse: true }))).toEqual([
      {
        code: 'namespace_in_use',
        message: 'namespace r1 is in use (1 topic(s) such as r1.points.ledger and Redis keys): choose a new one',
      },
    ]);
  });

  it('replay_exists alone', () => {
    expect(refusalsOf(facts({ existingReplay: meta }))).toEqual([
      {
        code: 'replay_exists',
        message:
          'r1 already holds a replay of tier-evaluation (done, from beginning): resume it with replay run --namespace r1, or remove it with replay discard',
      },
    ]);
  });

  it('replay_exists takes precedence over namespace_in_use', () => {
    expect(codes(facts({ existingReplay: meta, existingTopics: ['r1.points.ledger'], redisKeysInUse: true }))).toEqual([
      'replay_exists',
    ]);
  });

  it('group_active alone', () => {
    expect(refusalsOf(facts({ groupMembers: 2 }))).toEqual([
      {
        code: 'group_active',
        message: 'consumer group r1.points-accrual has 2 live member(s): another replay is running there',
      },
    ]);
  });

  it('reports every applicable refusal in a fixed order', () => {
    expect(codes(facts({ worker: 'nope', namespace: 'prod', redisKeysInUse: true, groupMembers: 1 }))).toEqual([
      'unknown_worker',
      'namespace_is_live',
      'namespace_in_use',
      'group_active',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// formatPlan
// ---------------------------------------------------------------------------------------------

describe('formatPlan', () => {
  const plan: ReplayPlan = {
    worker: 'points-accrual',
    liveNamespace: 'prod',
    namespace: 'r1',
    from: 'beginning',
    ranges: [
      { topic: 'prod.behavior.events', partition: 0, start: '5', end: '105', records: 100 },
      { topic: 'prod.behavior.events', partition: 1, start: '0', end: '20', records: 20 },
    ],
    records: 120,
    state: { redisKeys: 'mf:r1:points-accrual:*', group: 'r1.points-accrual', liveStateNamespace: 'prod' },
    outputs: ['r1.points.ledger'],
    rulesVersion: { replay: 'v2', live: 'v1' },
    liveGroupMembers: 3,
    warnings: ['input topic prod.x does not exist'],
    refusals: [],
  };

  it('lists ranges, totals, state, outputs and says it is safe', () => {
    const s = formatPlan(plan);
    expect(s.endsWith('\n')).toBe(true);
    const lines = s.trimEnd().split('\n');
    expect(lines[0]).toBe('replay of points-accrual from beginning into namespace r1');
    expect(lines).toContain(
      `  ${'prod.behavior.events'.padEnd(40)} ${'0'.padStart(10)} ${'5'.padStart(12)} ${'105'.padStart(12)} ${'100'.padStart(10)}`,
    );
    expect(lines).toContain("  total records: 120 (offsets: transaction markers on memberflow's own topics count too)");
    expect(lines).toContain(
      'state:   Redis mf:r1:points-accrual:*, consumer group r1.points-accrual (live state stays in prod)',
    );
    expect(lines).toContain('outputs: r1.points.ledger (never the live topics)');
    expect(lines).toContain('rules:   v2 (live: v1)');
    expect(lines).toContain('live workers running in the live group: 3');
    expect(lines).toContain('warning: input topic prod.x does not exist');
    expect(lines.at(-1)).toBe('safe to run: memberflow replay run with the same options');
  });

  it('prints refusals instead of "safe to run"', () => {
    const s = formatPlan({ ...plan, refusals: [{ code: 'group_active', message: 'busy' }] });
    expect(s).not.toContain('safe to run');
    expect(s).toContain('refused (group_active): busy\n');
  });
});

// ---------------------------------------------------------------------------------------------
// parseStartPoint
// ---------------------------------------------------------------------------------------------

describe('parseStartPoint', () => {
  it.each<[string, StartPoint]>([
    ['beginning', { kind: 'beginning' }],
    ['  beginning ', { kind: 'beginning' }],
    ['2024-03-01T10:00:00Z', { kind: 'time', at: Date.UTC(2024, 2, 1, 10), text: '2024-03-01T10:00:00Z' }],
    ['2024-03-01', { kind: 'time', at: Date.UTC(2024, 2, 1), text: '2024-03-01' }],
    ['2024-03-01T10:00:00+02:00', { kind: 'time', at: Date.UTC(2024, 2, 1, 8), text: '2024-03-01T10:00:00+02:00' }],
    ['0:1200', { kind: 'offsets', offsets: [{ topic: null, partition: 0, offset: '1200' }] }],
    [
      '0:1200,1:900',
      {
        kind: 'offsets',
        offsets: [
          { topic: null, partition: 0, offset: '1200' },
          { topic: null, partition: 1, offset: '900' },
        ],
      },
    ],
    [
      ' 0:1200 , 1:900 ,',
      {
        kind: 'offsets',
        offsets: [
          { topic: null, partition: 0, offset: '1200' },
          { topic: null, partition: 1, offset: '900' },
        ],
      },
    ],
    [
      'prod.activity.events#0:1200',
      { kind: 'offsets', offsets: [{ topic: 'prod.activity.events', partition: 0, offset: '1200' }] },
    ],
    [
      'a#2:0,b#3:9223372036854775807,4:5',
      {
        kind: 'offsets',
        offsets: [
          { topic: 'a', partition: 2, offset: '0' },
          { topic: 'b', partition: 3, offset: '9223372036854775807' },
          { topic: null, partition: 4, offset: '5' },
        ],
      },
    ],
  ])('parses %j', (text, expected) => {
    expect(parseStartPoint(text)).toEqual(expected);
  });

  it.each([
    ['', '--from is empty'],
    [' , ', '--from is empty'],
    ['2024-13-01', '--from 2024-13-01: not a valid ISO time'],
    ['2024-01-01Tnonsense', '--from 2024-01-01Tnonsense: not a valid ISO time'],
    ['end', '--from end: expected beginning, an ISO time, or offsets like 0:1200,1:900 (optionally topic#0:1200)'],
    [
      'Beginning',
      '--from Beginning: expected beginning, an ISO time, or offsets like 0:1200,1:900 (optionally topic#0:1200)',
    ],
    ['0:-1', '--from 0:-1: expected beginning, an ISO time, or offsets like 0:1200,1:900 (optionally topic#0:1200)'],
    ['0:12x', '--from 0:12x: expected beginning, an ISO time, or offsets like 0:1200,1:900 (optionally topic#0:1200)'],
    ['0:1,1', '--from 0:1,1: expected beginning, an ISO time, or offsets like 0:1200,1:900 (optionally topic#0:1200)'],
    ['#0:1', '--from #0:1: expected beginning, an ISO time, or offsets like 0:1200,1:900 (optionally topic#0:1200)'],
    ['1200', '--from 1200: expected beginning, an ISO time, or offsets like 0:1200,1:900 (optionally topic#0:1200)'],
  ])('refuses %j', (text, message) => {
    let caught: unknown;
    try {
      parseStartPoint(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StartPointError);
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).name).toBe('StartPointError');
    expect((caught as Error).message).toBe(message);
  });
});

// ---------------------------------------------------------------------------------------------
// planRanges
// ---------------------------------------------------------------------------------------------

interface Mark {
  partition: number;
  offset: string;
  high: string;
  low: string;
}

function fakeAdmin(
  marks: Record<string, Mark[]>,
  byTime: Record<string, Array<{ partition: number; offset: string }>> = {},
) {
  const calls: Array<{ topic: string; ts?: number }> = [];
  const admin = {
    // eslint-disable-next-line @typescript-eslint/require-await -- a fake of the admin's async API: an unknown topic rejects
    async fetchTopicOffsets(topic: string) {
      calls.push({ topic });
      const m = marks[topic];
      if (!m) throw new Error(`unknown topic ${topic}`);
      return m.map((x) => ({ ...x }));
    },
    fetchTopicOffsetsByTimestamp(topic: string, ts?: number) {
      calls.push({ topic, ts: ts! });
      return Promise.resolve((byTime[topic] ?? []).map((x) => ({ ...x })));
    },
  };
  return { admin: admin as unknown as Admin, calls };
}

const mark = (partition: number, low: number | string, high: number | string): Mark => ({
  partition,
  offset: String(high),
  high: String(high),
  low: String(low),
});

describe('planRanges', () => {
  const topic = 'prod.behavior.events';

  it('from the beginning starts at low, in partition order, records = high − low', async () => {
    const { admin, calls } = fakeAdmin({ [topic]: [mark(1, 0, 7), mark(0, 100, 250), mark(2, 30, 30)] });
    expect(await planRanges(admin, [topic], { kind: 'beginning' })).toEqual([
      { topic, partition: 0, start: '100', end: '250', records: 150 },
      { topic, partition: 1, start: '0', end: '7', records: 7 },
      { topic, partition: 2, start: '30', end: '30', records: 0 },
    ]);
    // no by-timestamp lookup when not starting from a time
    expect(calls).toEqual([{ topic }]);
  });

  it('from a time uses the by-timestamp offset; -1 or a missing partition starts at high', async () => {
    const at = Date.UTC(2024, 0, 1);
    const { admin, calls } = fakeAdmin(
      { [topic]: [mark(0, 0, 100), mark(1, 10, 50), mark(2, 0, 40)] },
      {
        [topic]: [
          { partition: 0, offset: '60' },
          { partition: 1, offset: '-1' },
        ],
      },
    );
    expect(await planRanges(admin, [topic], { kind: 'time', at, text: '2024-01-01' })).toEqual([
      { topic, partition: 0, start: '60', end: '100', records: 40 },
      { topic, partition: 1, start: '50', end: '50', records: 0 },
      { topic, partition: 2, start: '40', end: '40', records: 0 },
    ]);
    expect(calls).toEqual([{ topic }, { topic, ts: at }]);
  });

  it('explicit offsets: applied, clamped to high above it, unlisted partitions start at high', async () => {
    const { admin } = fakeAdmin({ [topic]: [mark(0, 10, 100), mark(1, 0, 50), mark(2, 5, 9)] });
    const from = parseStartPoint('0:10,1:80');
    expect(await planRanges(admin, [topic], from)).toEqual([
      { topic, partition: 0, start: '10', end: '100', records: 90 },
      { topic, partition: 1, start: '50', end: '50', records: 0 },
      { topic, partition: 2, start: '9', end: '9', records: 0 },
    ]);
  });

  it('an explicit offset equal to high reads nothing, one at low reads everything', async () => {
    const { admin } = fakeAdmin({ [topic]: [mark(0, 10, 100), mark(1, 3, 8)] });
    expect(await planRanges(admin, [topic], parseStartPoint('0:100,1:3'))).toEqual([
      { topic, partition: 0, start: '100', end: '100', records: 0 },
      { topic, partition: 1, start: '3', end: '8', records: 5 },
    ]);
  });

  it('an explicit offset below the oldest retained one throws StartPointError', async () => {
    const { admin } = fakeAdmin({ [topic]: [mark(0, 10, 100)] });
    await expect(planRanges(admin, [topic], parseStartPoint('0:9'))).rejects.toThrow(
      new StartPointError(`${topic} partition 0: offset 9 is below the oldest retained offset 10`),
    );
    await expect(planRanges(admin, [topic], parseStartPoint('0:9'))).rejects.toBeInstanceOf(StartPointError);
  });

  it('compares offsets numerically, not as strings', async () => {
    // '9' > '10' as strings; numerically 9 < 10 must still be refused, and 200 > 1000 must not clamp
    const { admin } = fakeAdmin({ [topic]: [mark(0, 10, 1000)] });
    await expect(planRanges(admin, [topic], parseStartPoint('0:9'))).rejects.toBeInstanceOf(StartPointError);
    expect(await planRanges(admin, [topic], parseStartPoint('0:200'))).toEqual([
      { topic, partition: 0, start: '200', end: '1000', records: 800 },
    ]);
  });

  it('topic-qualified offsets apply only to their topic', async () => {
    const other = 'prod.points.ledger';
    const { admin } = fakeAdmin({
      [topic]: [mark(0, 0, 100), mark(1, 0, 100)],
      [other]: [mark(0, 0, 30), mark(1, 0, 30)],
    });
    const from = parseStartPoint(`${other}#0:10,1:20`);
    expect(await planRanges(admin, [topic, other], from)).toEqual([
      { topic, partition: 0, start: '100', end: '100', records: 0 },
      { topic, partition: 1, start: '20', end: '100', records: 80 },
      { topic: other, partition: 0, start: '10', end: '30', records: 20 },
      { topic: other, partition: 1, start: '20', end: '30', records: 10 },
    ]);
  });

  it('no topics, no ranges', async () => {
    const { admin, calls } = fakeAdmin({});
    expect(await planRanges(admin, [], { kind: 'beginning' })).toEqual([]);
    expect(calls).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// diffStates / headline
// ---------------------------------------------------------------------------------------------

const points = (available: number[], pending: number[] = [], debt = 0): PointsState => ({
  ...initialPointsState(),
  lots: available.map((p, i) => ({ expiresAt: 1_000 * (i + 1), points: p })),
  pending: pending.map((p, i) => ({ availableAt: 500 * (i + 1), points: p })),
  debt,
});

const tier = (t: string | null, clock: number | null = 1): TierState => ({ ...initialTierState(), tier: t, clock });

describe('headline', () => {
  it('points-accrual: available, pending, debt', () => {
    expect(headline('points-accrual', points([10, 5], [7], 2))).toEqual({ available: 15, pending: 7, debt: 2 });
    expect(headline('points-accrual', initialPointsState())).toEqual({ available: 0, pending: 0, debt: 0 });
  });

  it('tier-evaluation: tier', () => {
    expect(headline('tier-evaluation', tier('gold'))).toEqual({ tier: 'gold' });
  });

  it('unknown worker: nothing', () => {
    expect(headline('who', { x: 1 })).toEqual({});
  });
});

describe('diffStates', () => {
  it('counts equal, different, only live and only shadow members (points-accrual)', () => {
    const live = new Map<string, unknown>([
      ['m1', points([10])], // equal
      ['m2', points([10, 5])], // available differs (15 vs 12)
      ['m3', points([10], [3])], // pending differs
      ['m4', points([1])], // only live
      ['m6', { ...points([8]), clock: 1 }], // differs outside the headline
    ]);
    const shadow = new Map<string, unknown>([
      ['m1', points([10])],
      ['m2', points([10, 2])],
      ['m3', points([10], [4])],
      ['m5', points([], [], 4)], // only shadow
      ['m6', { ...points([8]), clock: 2 }],
    ]);
    const d = diffStates('points-accrual', live, shadow);
    expect(d.members).toEqual({ live: 5, shadow: 5, both: 4, onlyLive: 1, onlyShadow: 1, equal: 1, different: 5 });
    // m2: available; m3: pending; m4: available (1 vs missing), pending, debt; m5: available, pending, debt
    expect(d.byField).toEqual({ available: 3, pending: 3, debt: 2 });
    // samples only for headline differences (not m6), in member id order
    expect(d.samples).toEqual([
      { memberId: 'm2', live: { available: 15, pending: 0, debt: 0 }, shadow: { available: 12, pending: 0, debt: 0 } },
      { memberId: 'm3', live: { available: 10, pending: 3, debt: 0 }, shadow: { available: 10, pending: 4, debt: 0 } },
      { memberId: 'm4', live: { available: 1, pending: 0, debt: 0 }, shadow: null },
      { memberId: 'm5', live: null, shadow: { available: 0, pending: 0, debt: 4 } },
    ]);
  });

  it('a state that differs with equal headlines counts as different with no byField and no sample', () => {
    // same available total, different lots
    const d = diffStates('points-accrual', new Map([['m1', points([10, 5])]]), new Map([['m1', points([5, 10])]]));
    expect(d.members).toEqual({ live: 1, shadow: 1, both: 1, onlyLive: 0, onlyShadow: 0, equal: 0, different: 1 });
    expect(d.byField).toEqual({});
    expect(d.samples).toEqual([]);
  });

  it('identical maps: all equal, nothing else', () => {
    const m = new Map<string, unknown>([
      ['a', points([1])],
      ['b', points([2], [3], 0)],
    ]);
    const copy = new Map<string, unknown>([
      ['a', points([1])],
      ['b', points([2], [3], 0)],
    ]);
    expect(diffStates('points-accrual', m, copy)).toEqual({
      members: { live: 2, shadow: 2, both: 2, onlyLive: 0, onlyShadow: 0, equal: 2, different: 0 },
      byField: {},
      samples: [],
    });
  });

  it('empty maps', () => {
    expect(diffStates('points-accrual', new Map(), new Map())).toEqual({
      members: { live: 0, shadow: 0, both: 0, onlyLive: 0, onlyShadow: 0, equal: 0, different: 0 },
      byField: {},
      samples: [],
    });
  });

  it('limits samples to maxSamples, sorted by member id, while still counting all', () => {
    const live = new Map<string, unknown>();
    const shadow = new Map<string, unknown>();
    for (const id of ['m5', 'm3', 'm1', 'm4', 'm2']) {
      live.set(id, tier('gold'));
      shadow.set(id, tier('silver'));
    }
    const d = diffStates('tier-evaluation', live, shadow, 2);
    expect(d.members.different).toBe(5);
    expect(d.byField).toEqual({ tier: 5 });
    expect(d.samples).toEqual([
      { memberId: 'm1', live: { tier: 'gold' }, shadow: { tier: 'silver' } },
      { memberId: 'm2', live: { tier: 'gold' }, shadow: { tier: 'silver' } },
    ]);
    expect(diffStates('tier-evaluation', live, shadow, 0).samples).toEqual([]);
    expect(diffStates('tier-evaluation', live, shadow).samples).toHaveLength(5);
  });

  it('tier-evaluation: a clock-only difference is not a tier difference; null vs a tier is', () => {
    const live = new Map<string, unknown>([
      ['a', tier('gold', 1)],
      ['b', tier(null)],
      ['c', tier('gold')],
    ]);
    const shadow = new Map<string, unknown>([
      ['a', tier('gold', 2)],
      ['b', tier('bronze')],
      ['c', tier('gold')],
    ]);
    const d = diffStates('tier-evaluation', live, shadow);
    expect(d.members).toEqual({ live: 3, shadow: 3, both: 3, onlyLive: 0, onlyShadow: 0, equal: 1, different: 2 });
    expect(d.byField).toEqual({ tier: 1 });
    expect(d.samples).toEqual([{ memberId: 'b', live: { tier: null }, shadow: { tier: 'bronze' } }]);
  });
});

// ---------------------------------------------------------------------------------------------
// diffOutputs
// ---------------------------------------------------------------------------------------------

describe('diffOutputs', () => {
  it('same, different, only live, only shadow; duplicated ids count once (first copy wins)', () => {
    const live = [
      { id: 'e1', value: { p: 1 } },
      { id: 'e2', value: { p: 2 } },
      { id: 'e1', value: { p: 999 } }, // duplicate: ignored
      { id: 'e3', value: { p: 3 } },
      { id: 'e4', value: { p: 4 } },
    ];
    const shadow = [
      { id: 'e1', value: { p: 1 } },
      { id: 'e2', value: { p: 20 } },
      { id: 'e2', value: { p: 2 } }, // duplicate: ignored, so e2 differs
      { id: 'e5', value: { p: 5 } },
      { id: 'e5', value: { p: 5 } },
      { id: 'e3', value: { p: 3 } },
    ];
    expect(diffOutputs('points.ledger', live, shadow)).toEqual({
      topic: 'points.ledger',
      live: 4,
      shadow: 4,
      same: 2,
      different: 1,
      onlyLive: 1,
      onlyShadow: 1,
      samples: [{ id: 'e2', live: { p: 2 }, shadow: { p: 20 } }],
    });
  });

  it('compares values deeply, and limits samples', () => {
    const live = [1, 2, 3, 4].map((i) => ({ id: `e${i}`, value: { n: i, nested: { a: [i] } } }));
    const shadow = [1, 2, 3, 4].map((i) => ({ id: `e${i}`, value: { n: i, nested: { a: [i === 1 ? i : -i] } } }));
    const d = diffOutputs('member.tier-changes', live, shadow, 2);
    expect(d).toMatchObject({ live: 4, shadow: 4, same: 1, different: 3, onlyLive: 0, onlyShadow: 0 });
    expect(d.samples.map((s) => s.id)).toEqual(['e2', 'e3']);
  });

  it('empty sides', () => {
    expect(
      diffOutputs(
        'points.ledger',
        [],
        [
          { id: 'x', value: 1 },
          { id: 'x', value: 2 },
        ],
      ),
    ).toEqual({
      topic: 'points.ledger',
      live: 0,
      shadow: 1,
      same: 0,
      different: 0,
      onlyLive: 0,
      onlyShadow: 1,
      samples: [],
    });
    expect(diffOutputs('points.ledger', [{ id: 'x', value: 1 }], [])).toMatchObject({
      live: 1,
      shadow: 0,
      onlyLive: 1,
      onlyShadow: 0,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// selectDeadLetters / dlqFilter
// ---------------------------------------------------------------------------------------------

const dl = (id: string, over: Partial<DeadLetterView> = {}): DeadLetterView => ({
  id,
  worker: 'behavior-events',
  reason: 'schema_invalid',
  message: 'bad',
  sourceTopic: 'prod.activity.events',
  sourcePartition: 0,
  sourceOffset: '1',
  sourceTimestamp: 1_000,
  eventId: null,
  userId: null,
  originalKey: null,
  originalValue: Buffer.from('x'),
  originalSize: 1,
  ...over,
});

describe('selectDeadLetters', () => {
  const all = [
    dl('d1', { reason: 'schema_invalid', worker: 'behavior-events', sourceTimestamp: 1_000 }),
    dl('d2', { reason: 'unknown_member', worker: 'points-accrual', sourceTimestamp: 2_000 }),
    dl('d1', { reason: 'schema_invalid', worker: 'behavior-events', sourceTimestamp: 1_000, message: 'second copy' }),
    dl('d3', { reason: 'schema_invalid', worker: 'points-accrual', sourceTimestamp: 3_000 }),
    dl('d4', { reason: 'unknown_member', worker: 'behavior-events', sourceTimestamp: 2_999 }),
  ];
  const ids = (xs: DeadLetterView[]) => xs.map((d) => d.id);

  it('no filter: every id once, first copy, in order', () => {
    const r = selectDeadLetters(all, {});
    expect(ids(r)).toEqual(['d1', 'd2', 'd3', 'd4']);
    expect(r[0]!.message).toBe('bad');
  });

  it('by reason', () => {
    expect(ids(selectDeadLetters(all, { reason: 'schema_invalid' }))).toEqual(['d1', 'd3']);
    expect(ids(selectDeadLetters(all, { reason: 'nope' }))).toEqual([]);
  });

  it('by worker', () => {
    expect(ids(selectDeadLetters(all, { worker: 'points-accrual' }))).toEqual(['d2', 'd3']);
  });

  it('since is inclusive on the source timestamp', () => {
    expect(ids(selectDeadLetters(all, { since: 2_000 }))).toEqual(['d2', 'd3', 'd4']);
    expect(ids(selectDeadLetters(all, { since: 2_001 }))).toEqual(['d3', 'd4']);
    expect(ids(selectDeadLetters(all, { since: 0 }))).toEqual(['d1', 'd2', 'd3', 'd4']);
  });

  it('filters combine', () => {
    expect(ids(selectDeadLetters(all, { reason: 'unknown_member', worker: 'behavior-events', since: 2_000 }))).toEqual([
      'd4',
    ]);
    expect(ids(selectDeadLetters(all, { reason: 'schema_invalid', worker: 'points-accrual', since: 3_001 }))).toEqual(
      [],
    );
  });
});

describe('dlqFilter', () => {
  it('keeps only what was given', () => {
    expect(dlqFilter({})).toEqual({});
    expect(dlqFilter({ reason: '', worker: '', since: '' })).toEqual({});
    expect(dlqFilter({ reason: 'schema_invalid', worker: 'points-accrual', since: '2024-03-01T00:00:00Z' })).toEqual({
      reason: 'schema_invalid',
      worker: 'points-accrual',
      since: Date.UTC(2024, 2, 1),
    });
    expect(dlqFilter({ since: '2024-03-01T10:00:00+02:00' })).toEqual({ since: Date.UTC(2024, 2, 1, 8) });
  });

  it('refuses an invalid --since', () => {
    expect(() => dlqFilter({ since: 'yesterday' })).toThrow(ReplayRefused);
    expect(() => dlqFilter({ since: 'yesterday' })).toThrow('--since yesterday: not an ISO time');
    expect(() => dlqFilter({ since: '2024-13-01' })).toThrow(ReplayRefused);
  });
});

// ---------------------------------------------------------------------------------------------
// formatDiff
// ---------------------------------------------------------------------------------------------

describe('formatDiff', () => {
  it('prints the member counts, fields, samples and per-topic counts', () => {
    const live = new Map<string, unknown>([
      ['m1', tier('gold')],
      ['m2', tier('silver')],
      ['m3', tier('bronze')],
    ]);
    const shadow = new Map<string, unknown>([
      ['m1', tier('gold')],
      ['m2', tier('gold')],
      ['m4', tier('bronze')],
    ]);
    const report: DiffReport = {
      worker: 'tier-evaluation',
      liveState: 'prod',
      shadow: 'r1',
      state: diffStates('tier-evaluation', live, shadow),
      outputs: [
        diffOutputs(
          'member.tier-changes',
          [
            { id: 'a', value: 1 },
            { id: 'b', value: 2 },
          ],
          [
            { id: 'a', value: 1 },
            { id: 'c', value: 3 },
          ],
        ),
      ],
    };
    expect(formatDiff(report).split('\n')).toEqual([
      'tier-evaluation: live state prod against replay r1',
      'members: live 3, replay 3; equal 1, different 3 (only live 1, only replay 1)',
      '  tier: 3 member(s) differ',
      '  e.g. m2: live {"tier":"silver"} → replay {"tier":"gold"}',
      '  e.g. m3: live {"tier":"bronze"} → replay null',
      '  e.g. m4: live null → replay {"tier":"bronze"}',
      'member.tier-changes: live 2 events, replay 2; same 1, different 0, only live 1, only replay 1',
    ]);
  });
});
