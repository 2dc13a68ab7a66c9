import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Rules } from '../../shared/config/rules.js';
import type { ChurnRiskValue } from '../../shared/contracts/churn-risk.js';
import { churnLogic } from '../../services/churn-prediction/decide.js';
import { bandOf, nextBandChangeDay, pAliveOn } from '../../services/churn-prediction/bands.js';
import { initialChurnState, nextDue, type ChurnState } from '../../services/churn-prediction/state.js';
import { meanRepeatSpendFen, noPurchases, recordPurchase, rfmAt } from '../../services/churn-prediction/statistics.js';
import { churnPredictionWorker } from '../../services/churn-prediction/worker.js';
import { scoreMember, scoringModel } from '../../shared/clv/score.js';
import { summarize } from '../../shared/clv/summary.js';
import { emptyRecord, stepMember, type MemberRecord } from '../../shared/kernel/member-record.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import type { Decoded, InputRecord, OutputEvent } from '../../shared/kernel/types.js';
import { avroType } from '../../shared/contracts/schemas.js';
import { localDay } from '../../shared/util/time.js';
import { inputRecord } from './fixtures.js';
import { dayMs, ev, member, purchase, rules, sh } from './points-helpers.js';

const model = scoringModel(rules.churn.model, 'days');
const tz = rules.timeZone;
const limits = { recentIds: 256, outboxEntries: 10_000, maxStateBytes: 1_048_576 };

type Step = ReturnType<typeof ev> | { tick: number };
const isTick = (s: Step): s is { tick: number } => 'tick' in s;

/** Runs steps as the kernel would (ticks reach the member only when due); checks every output against the Avro schema. */
function run(steps: Step[], r: Rules = rules, start: ChurnState = initialChurnState()) {
  let state = start;
  const outputs: ChurnRiskValue[] = [];
  steps.forEach((s, i) => {
    let d;
    if (isTick(s)) {
      const due = churnLogic.nextDue!(state);
      if (due === null || s.tick < due) return;
      d = churnLogic.onTick!(state, member, { rules: r, time: s.tick, tickId: `tick:${i}`, offset: String(i) });
    } else {
      d = churnLogic.decide(state, s, {
        rules: r,
        record: { timestamp: s.occurredAt, sizeBytes: 100, topic: 'test', partition: 0, offset: '0' },
      });
    }
    if (d.kind !== 'applied') throw new Error(`rejected: ${d.rejection.reason}`);
    for (const o of d.outputs) {
      const bad: string[] = [];
      avroType('member.churn-risk').isValid(o.value, { errorHook: (p) => bad.push(p.join('.')) });
      expect(bad, `invalid output ${o.id}`).toEqual([]);
      expect(o.key).toBe(member);
      expect(o.id).toBe((o.value as { eventId: string }).eventId);
    }
    state = d.state;
    outputs.push(...d.outputs.map((o) => o.value as unknown as ChurnRiskValue));
  });
  return { state, outputs };
}

describe('scoring in any time unit', () => {
  it('parameters fitted in weeks score a member in days exactly as in weeks', () => {
    const weeks = scoringModel(rules.churn.model, 'weeks');
    const days = scoringModel(rules.churn.model, 'days');
    expect(days.count.alpha).toBeCloseTo(weeks.count.alpha * (rules.churn.model.unit === 'weeks' ? 7 : 1), 12);
    const o = { lifetimeValue: rules.churn.lifetimeValue };
    for (const [x, tx, T] of [
      [0, 0, 30],
      [2, 30.43, 38.86],
      [10, 5, 70],
    ] as const) {
      const w = scoreMember(weeks, { x, tx, T }, 25, { ...o, horizon: 13 });
      const d = scoreMember(days, { x, tx: tx * 7, T: T * 7 }, 25, { ...o, horizon: 91 });
      expect(d.pAlive).toBeCloseTo(w.pAlive, 12);
      expect(d.expectedPurchases).toBeCloseTo(w.expectedPurchases, 10);
      if (w.lifetimeValue !== null) expect(d.lifetimeValue!).toBeCloseTo(w.lifetimeValue, 8);
    }
    // A new MBG/NBD member two days after their first purchase is barely less alive than on day 0.
    if (rules.churn.model.model === 'mbgnbd') {
      const p0 = scoreMember(days, { x: 0, tx: 0, T: 0 }, 0, { ...o, horizon: 90 }).pAlive;
      const p2 = scoreMember(days, { x: 0, tx: 0, T: 2 }, 0, { ...o, horizon: 90 }).pAlive;
      expect(p0 - p2).toBeLessThan(0.02);
    }
  });
});

describe('churn statistics, incrementally', () => {
  const purchaseArb = fc.record({
    day: fc.integer({ min: 10_000, max: 10_400 }),
    cents: fc.integer({ min: 0, max: 50_000 }),
  });

  it('property: in any arrival order, the statistics equal the offline summary of the same purchases', () => {
    fc.assert(
      fc.property(
        fc.array(purchaseArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 400 }),
        (ps, extra) => {
          let s = noPurchases();
          for (const p of ps) s = recordPurchase(s, p.day, p.cents, 1024);
          const end = Math.max(...ps.map((p) => p.day)) + extra;
          const [offline] = summarize(
            ps.map((p) => ({ memberId: '1', day: p.day, amountCents: p.cents })),
            end,
          );
          const rfm = rfmAt(s, end)!;
          expect([rfm.x, rfm.recencyDays, rfm.ageDays]).toEqual([offline!.x, offline!.txDays, offline!.TDays]);
          expect(s.repeatSpendFen).toBe(offline!.repeatSpendCents);
          if (offline!.x > 0)
            expect(Math.floor((2 * s.repeatSpendFen + offline!.x) / (2 * offline!.x))).toBe(offline!.zbarCents);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('bounds the days kept and still counts every distinct day', () => {
    let s = noPurchases();
    for (let d = 0; d < 50; d++) s = recordPurchase(s, 1000 + d * 2, 100, 8);
    expect(s.days.length).toBe(8);
    expect(s.days[0]).toBe(1000);
    expect(rfmAt(s, 1100)).toEqual({ x: 49, recencyDays: 98, ageDays: 100 });
    expect(meanRepeatSpendFen(s)).toBe(100);
  });
});

describe('risk bands and when they change', () => {
  const statsArb = fc
    .array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 12 })
    .map((days) => days.reduce((s, d) => recordPurchase(s, 20_000 + d, 1000, 1024), noPurchases()));

  it('property: the computed change day is exactly the first day a day-by-day scan finds', () => {
    fc.assert(
      fc.property(statsArb, fc.integer({ min: 0, max: 200 }), (stats, after) => {
        const today = stats.days[stats.days.length - 1]! + after;
        const band = bandOf(pAliveOn(stats, today, model)!, rules.churn.bands);
        const change = nextBandChangeDay(stats, today, model, rules.churn);
        let scanned: number | null = null;
        for (let d = today + 1; d <= today + 4000; d++) {
          if (bandOf(pAliveOn(stats, d, model)!, rules.churn.bands) !== band) {
            scanned = d;
            break;
          }
        }
        if (scanned === null) expect(change === null || change > today + 4000).toBe(true);
        else expect(change).toBe(scanned);
      }),
      { numRuns: 200 },
    );
  });

  it('bands follow the thresholds in the rules', () => {
    expect(bandOf(0.9, rules.churn.bands)).toBe('low');
    expect(bandOf(rules.churn.bands.mediumBelow - 1e-9, rules.churn.bands)).toBe('medium');
    expect(bandOf(rules.churn.bands.highBelow - 1e-9, rules.churn.bands)).toBe('high');
  });
});

describe('churn-prediction decisions', () => {
  const t0 = sh(2026, 1, 5, 10);

  it('assigns a band at the first purchase, then speaks only when the band changes', () => {
    const steps: Step[] = [
      purchase('p1', 5000, t0),
      ev('v1', 'content_view', t0 + dayMs, { itemId: 'c' }),
      purchase('p2', 3000, t0 + 3 * dayMs),
    ];
    const { outputs, state } = run(steps);
    expect(outputs[0]).toMatchObject({
      eventId: 'churn:bhv:p1',
      reason: 'band_assigned',
      previousBand: null,
      sourceEventId: 'bhv:p1',
      occurredAt: t0,
    });
    expect(outputs.filter((o) => o.reason === 'band_changed').every((o) => o.previousBand !== o.band)).toBe(true);
    expect(state.stats.days.length).toBe(2);
    expect(state.lastActivityAt).toBe(t0 + 3 * dayMs);
    expect(outputs.every((o) => o.modelVersion === rules.churn.model.version && o.rulesVersion === rules.version)).toBe(
      true,
    );
  });

  it('a member who stops buying ages into high risk; the event comes on the change day, from a tick or from the next input alike', () => {
    const buys: Step[] = [
      purchase('p1', 5000, t0),
      purchase('p2', 5000, t0 + 7 * dayMs),
      purchase('p3', 5000, t0 + 14 * dayMs),
    ];
    const late = t0 + 3 * 365 * dayMs;
    const daily: Step[] = [...buys];
    for (let t = t0 + 15 * dayMs; t <= late; t += dayMs) daily.push({ tick: t });
    const withTicks = run([...daily, ev('v', 'content_view', late, { itemId: 'c' })]);
    const withoutTicks = run([...buys, ev('v', 'content_view', late, { itemId: 'c' })]);
    const strip = (os: ChurnRiskValue[]) => os.map(({ sourceEventId: _s, ...rest }) => rest);
    expect(strip(withTicks.outputs)).toEqual(strip(withoutTicks.outputs));
    const bandsSeen = withTicks.outputs.map((o) => o.band);
    expect(bandsSeen.at(-1)).toBe('high');
    const lastPurchase = t0 + 14 * dayMs;
    for (const o of withTicks.outputs.filter((x) => x.reason === 'band_changed' && x.occurredAt > lastPurchase)) {
      expect(o.eventId).toBe(`churn:${member}:band:${o.occurredAt}`);
      // The change day's start, and P(alive) on it is in the new band while the day before was not.
      const day = localDay(o.occurredAt, tz);
      expect(bandOf(pAliveOn(withTicks.state.stats, day, model)!, rules.churn.bands)).toBe(o.band);
      expect(bandOf(pAliveOn(withTicks.state.stats, day - 1, model)!, rules.churn.bands)).toBe(o.previousBand);
    }
  });

  it('a purchase brings a high-risk member back to a lower band at once', () => {
    const steps: Step[] = [
      purchase('p1', 5000, t0),
      purchase('p2', 5000, t0 + 7 * dayMs),
      { tick: t0 + 3 * 365 * dayMs },
      purchase('p3', 5000, t0 + 3 * 365 * dayMs + 1),
    ];
    const { outputs } = run(steps);
    const last = outputs.at(-1)!;
    expect(last.eventId).toBe('churn:bhv:p3');
    expect(last.previousBand).toBe('high');
    expect(last.band).not.toBe('high');
  });

  it('flags a paid plan that lapses, not one that was renewed in time', () => {
    const end1 = t0 + 30 * dayMs;
    const sub = (id: string, at: number, periodEnd: number) =>
      ev(id, 'subscription', at, { plan: 'monthly', amountFen: 3000, periodEnd });
    const renewed = run([sub('s1', t0, end1), sub('s2', end1 - dayMs, end1 + 30 * dayMs), { tick: end1 + dayMs }]);
    expect(renewed.outputs.filter((o) => o.reason === 'subscription_lapsed')).toEqual([]);
    const lapsed = run([sub('s1', t0, end1), { tick: end1 - 1 }, { tick: end1 + 5 }]);
    const flags = lapsed.outputs.filter((o) => o.reason === 'subscription_lapsed');
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({
      eventId: `churn:${member}:lapse:${end1}`,
      plan: 'monthly',
      periodEnd: end1,
      occurredAt: end1,
    });
    expect(nextDue(lapsed.state)).not.toBe(end1);
  });

  it('marks the lifecycle stage exit once the member has been inactive for exitAfterDays', () => {
    const steps: Step[] = [
      purchase('p1', 5000, t0),
      purchase('p2', 5000, t0 + 7 * dayMs),
      { tick: t0 + 2 * 365 * dayMs },
    ];
    const { outputs } = run(steps);
    const exitMs = rules.behavior.lifecycle.exitAfterDays * dayMs;
    for (const o of outputs) expect(o.lifecycleStage === 'exit').toBe(o.occurredAt - (t0 + 7 * dayMs) >= exitMs);
  });

  it('new parameters re-score a member at their next event, and the event names the version', () => {
    const first = run([purchase('p1', 5000, t0)]);
    const harsh: Rules = {
      ...rules,
      churn: {
        ...rules.churn,
        bands: { mediumBelow: 0.99999, highBelow: 0.99998 },
        model: { ...rules.churn.model, version: 'v-next' },
      },
    };
    const second = run([ev('v1', 'content_view', t0 + dayMs, { itemId: 'c' })], harsh, first.state);
    expect(second.outputs).toHaveLength(1);
    expect(second.outputs[0]).toMatchObject({ modelVersion: 'v-next', reason: 'band_changed', band: 'high' });
  });
});

describe('churn-prediction through the kernel: exactly once', () => {
  const op = fc.record({
    kind: fc.constantFrom('purchase', 'purchase', 'view', 'subscription', 'tick'),
    gap: fc.integer({ min: 0, max: 120 * dayMs }),
    amount: fc.integer({ min: 0, max: 80_000 }),
    duplicate: fc.boolean(),
  });
  type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;
  type Item = { record: InputRecord; decoded: Decoded<ReturnType<typeof ev>> };

  function log(ops: Op[], withDuplicates: boolean): Item[] {
    let t = sh(2026, 1, 1, 9);
    const items: Item[] = [];
    ops.forEach((o, i) => {
      t += o.gap;
      if (o.kind === 'tick') {
        items.push({
          record: { ...inputRecord(items.length, '', '__tick__'), tick: t },
          decoded: { kind: 'event', memberId: '', eventId: '', event: ev('x', 'x', 0) },
        });
        return;
      }
      const e =
        o.kind === 'purchase'
          ? purchase(`e${i}`, o.amount, t)
          : o.kind === 'subscription'
            ? ev(`e${i}`, 'subscription', t, { plan: 'monthly', amountFen: 3000 + o.amount, periodEnd: t + 30 * dayMs })
            : ev(`e${i}`, 'content_view', t, { itemId: 'c' });
      const copies = withDuplicates && o.duplicate ? 2 : 1;
      for (let c = 0; c < copies; c++)
        items.push({
          record: inputRecord(items.length, e, member),
          decoded: { kind: 'event', memberId: member, eventId: e.eventId, event: e },
        });
    });
    return items;
  }

  it('property: re-published events and a crash with redelivery give the identical events and state', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), fc.nat(), (ops, cut) => {
        const clean = referenceRun(churnPredictionWorker, log(ops, false), rules, limits);
        const dupLog = log(ops, true);
        const dup = referenceRun(churnPredictionWorker, dupLog, rules, limits);
        // A tick's id is its offset, which re-published inputs shift: only the source of time-driven events may differ.
        const tickFree = (os: OutputEvent[]) =>
          os.map((o) => [
            o.id,
            { ...o.value, sourceEventId: String(o.value.sourceEventId).replace(/^tick:.*/, 'tick') },
          ]);
        expect(tickFree(dup.outputs)).toEqual(tickFree(clean.outputs));
        const inputs = dupLog.filter((x) => x.record.tick === undefined);
        let rec: MemberRecord<unknown> = emptyRecord();
        const published: OutputEvent[] = [];
        const crashAt = cut % (inputs.length + 1);
        for (const slice of [inputs.slice(0, crashAt), inputs]) {
          for (const { record, decoded } of slice) {
            if (decoded.kind !== 'event') continue;
            const step = stepMember(
              churnPredictionWorker as never,
              rec as never,
              { record, ...decoded },
              { rules, record: { timestamp: 0, sizeBytes: 0, topic: 'test', partition: 0, offset: '0' } },
              limits,
            );
            rec = step.record;
            published.push(...step.outputs);
          }
        }
        const noTicks = referenceRun(churnPredictionWorker, inputs, rules, limits);
        const firstById = new Map<string, OutputEvent>();
        for (const o of published) if (!firstById.has(o.id)) firstById.set(o.id, o);
        expect([...firstById.values()].map((o) => [o.id, o.value])).toEqual(
          noTicks.outputs.map((o) => [o.id, o.value]),
        );
        expect(rec.state).toEqual([...noTicks.states.values()][0] ?? null);
      }),
      { numRuns: 150 },
    );
  });
});
