import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produceCommand } from '../../cli/commands/produce.js';
import { tickerCommand } from '../../cli/commands/ticker.js';
import { pointsLogic } from '../../services/points-accrual/decide.js';
import type { PointsState } from '../../services/points-accrual/state.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { defaultLimits } from '../../shared/kernel/run-worker.js';
import type { Decoded, OutputEvent } from '../../shared/kernel/types.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { mulberry32 } from '../support/activity-generator.js';
import { TestStack, sleep, waitFor, type ReadRecord } from '../support/harness.js';

const retail = fileURLToPath(new URL('../../data/online-retail/online-retail.csv.gz', import.meta.url));
const tickPlaceholder: Decoded<never> = { kind: 'rejected', rejection: { reason: 'tick', message: 'tick' }, eventId: null, memberId: null };

describe('e2e: the whole Online Retail data set through behavior-events and points-accrual, with SIGKILLs', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await TestStack.create('points', { partitions: 3 });
  });
  afterAll(async () => s?.close());

  it('ends with every balance and the whole ledger equal to the pure reference run', async () => {
    const started = Date.now();
    const ctx = { env: s.env, rules: s.rules, log: s.log };
    const produced = await produceCommand(ctx, { file: retail, format: 'online-retail' });
    expect(produced.sent).toBeGreaterThan(400_000);
    // Time passes well beyond the data: every lot earned in it expires (365 days), for members who never came back.
    for (const time of [Date.UTC(2012, 5, 1), Date.UTC(2013, 0, 1)]) await tickerCommand(ctx, { intervalMs: 1, once: true, time });

    const behavior = s.spawnWorker('behavior-events');
    const rnd = mulberry32(Date.now() & 0xffff);
    const kills: number[] = [];
    for (let k = 0; k < 4; k++) {
      const before = await s.committedTotal('points-accrual', 'behavior.events');
      const points = s.spawnWorker('points-accrual', [], { KAFKA_MAX_BYTES_PER_PARTITION: '262144' });
      await waitFor(async () => (await s.committedTotal('points-accrual', 'behavior.events')) > before, 180_000, 'points-accrual to commit a batch');
      await sleep(500 + Math.floor(rnd() * 3000));
      points.kill('SIGKILL');
      await new Promise((r) => points.once('exit', r));
      kills.push(await s.lag('points-accrual', 'behavior.events'));
    }
    const last = s.spawnWorker('points-accrual');
    await s.waitForLag0('behavior-events', 'activity.events', 600_000);
    await s.waitForLag0('points-accrual', 'behavior.events', 600_000);
    behavior.kill('SIGTERM');
    last.kill('SIGTERM');
    const processedAt = Date.now();
    expect(kills.filter((lag) => lag > 0).length).toBeGreaterThanOrEqual(2);

    const inputs = await s.readAll('behavior.events');
    const log = inputs.map((record) => ({ record, decoded: record.tick !== undefined ? tickPlaceholder : eventOf(record) }));
    const reference = referenceRun(pointsLogic, log, s.rules, defaultLimits(s.rules), { forwardTicksTo: 'points.ledger' });

    const ledger = await s.readAll('points.ledger');
    const firstById = new Map<string, ReadRecord>();
    for (const r of ledger) if (r.id && !firstById.has(r.id)) firstById.set(r.id, r);
    const expected = new Map<string, OutputEvent>(reference.outputs.filter((o) => o.topic === 'points.ledger').map((o) => [o.id, o]));
    expect(firstById.size).toBe(expected.size);
    for (const [id, o] of expected) {
      const got = firstById.get(id);
      expect(got, id).toBeDefined();
      if (o.tick) expect(got!.tick).toBe(o.tick.time);
      else expect(got!.decoded, id).toEqual(o.value);
    }
    const store = new MemberStore<PointsState>(s.clients.redis, s.ns, 'points-accrual');
    const members = [...reference.states.keys()];
    const loaded = await store.load(members);
    for (const [m, state] of reference.states) expect(loaded.get(m)?.record.state, m).toEqual(state);

    // Memory per member, as Redis counts it, on a sample.
    const sample = members.filter((_, i) => i % 50 === 0);
    const bytes = await Promise.all(sample.map((m) => s.clients.redis.memory('USAGE', store.key(m)) as Promise<number>));
    const perMember = Math.round(bytes.reduce((a, b) => a + b, 0) / sample.length);
    process.stderr.write(
      `[points-pipeline] ${JSON.stringify({
        inputs: produced.sent,
        behaviorEvents: inputs.length,
        ledgerEntries: expected.size,
        ledgerRecords: ledger.length,
        members: members.length,
        kills,
        processingSeconds: Math.round((processedAt - started) / 1000),
        redisBytesPerMember: perMember,
        redisBytesMax: Math.max(...bytes),
      })}\n`,
    );
  }, 1_500_000);
});

function eventOf(record: ReadRecord): Decoded<BehaviorEventValue> {
  const e = record.decoded as BehaviorEventValue;
  return { kind: 'event', memberId: e.userId, eventId: e.eventId, event: e };
}
