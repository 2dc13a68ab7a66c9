/**
 * The walk-through of docs/ADDING-A-WORKER.md, tested: the example worker (test/support/example-worker) runs on
 * the real kernel, Kafka and Redis behind the real behavior-events worker, and ends with the states its pure
 * logic gives over the same log (the reference run), its projection written beside them, and its refusals in
 * the dead-letter topic with their reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workers } from '../../services/index.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { defaultLimits, runWorker } from '../../shared/runtime/run-worker.js';
import type { RunningWorker } from '../../shared/runtime/worker-options.js';
import type { Decoded } from '../../shared/kernel/types.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { reasons, workerName, type StreakState } from '../support/example-worker/decide.js';
import { visitStreakEntry } from '../support/example-worker/worker.js';
import { TestStack, type ReadRecord } from '../support/harness.js';
import type { WorkerEntry } from '../../services/index.js';

const dayMs = 86_400_000;
// Noon in Shanghai (the default rules' time zone): one local day per step.
const day0 = Date.UTC(2026, 2, 2, 4);

describe('adding a worker: the example visit-streak worker on the real stack', () => {
  let s: TestStack;
  const running: RunningWorker[] = [];
  beforeAll(async () => {
    s = await TestStack.create('example');
  });
  afterAll(async () => {
    for (const w of running) await w.stop();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
  });

  const start = (name: string, entry: WorkerEntry) =>
    runWorker({
      worker: entry.definition,
      decoder: entry.decoder(s.clients.codec, () => s.rules),
      kafka: s.clients.kafka,
      redis: s.clients.redis,
      codec: s.clients.codec,
      namespace: s.ns,
      rules: s.rules,
      log: s.log.child({ worker: name }),
      sessionTimeoutMs: 6000,
    });

  it('keeps every member state its pure logic gives, with its projection and its dead letters', async () => {
    const visit = (id: string, userId: string, day: number, type = 'checkin') => ({
      eventId: id,
      userId,
      type,
      itemId: 'lesson-1',
      occurredAt: day0 + day * dayMs,
    });
    // ann: days 0, 1, 2 (a streak of 3), day 4 (a new streak), then day 1 again (late: refused), twice the same id.
    const ann = [visit('a0', 'ann', 0), visit('a1', 'ann', 1), visit('a2', 'ann', 2, 'content_view')];
    const annLater = [visit('a4', 'ann', 4), visit('a1-late', 'ann', 1), visit('a4', 'ann', 4)];
    // bob: two visits on one day, a refund (not a visit); many others on pseudo-random days.
    const bob = [visit('b0', 'bob', 3), visit('b1', 'bob', 3, 'comment'), visit('b2', 'bob', 5, 'signup')];
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647);
    const others = Array.from({ length: 600 }, (_, i) => ({ user: `m${next() % 60}`, i })).map(({ user, i }) =>
      visit(`o${i}`, user, Math.floor(i / 40) + (next() % 3)),
    );
    await s.produceJson([...ann, ...bob, ...others, ...annLater]);

    running.push(await start('behavior-events', workers['behavior-events']!));
    running.push(await start(workerName, visitStreakEntry));
    await s.waitForLag0('behavior-events', 'activity.events', 120_000);
    await s.waitForLag0(workerName, 'behavior.events', 120_000);

    // The reference: the worker's pure logic over the log it read.
    const log = (await s.readAll('behavior.events')).map((record: ReadRecord) => {
      const event = record.decoded as BehaviorEventValue;
      const decoded: Decoded<BehaviorEventValue> = {
        kind: 'event',
        memberId: event.userId,
        eventId: event.eventId,
        event,
      };
      return { record, decoded };
    });
    expect(log.length).toBe(ann.length + bob.length + others.length + annLater.length - 1);
    const reference = referenceRun(visitStreakEntry.definition, log, s.rules, defaultLimits(s.rules));

    const store = new MemberStore<StreakState>(s.clients.redis, s.ns, visitStreakEntry.definition);
    const live = new Map<string, StreakState | null>();
    for (const member of reference.states.keys()) live.set(member, await store.state(member));
    expect(Object.fromEntries(live)).toEqual(Object.fromEntries(reference.states));
    expect(live.get('ann')).toEqual({ lastDay: expect.any(Number) as unknown, streak: 1, best: 3 });
    expect(visitStreakEntry.headline(live.get('bob'))).toEqual({ streak: 1, best: 1 });

    // The projection, written in the state's own atomic step: every member's best run.
    const top = await store.projectionTop('best-streak', 1000);
    expect(top.length).toBe(live.size);
    expect(new Map(top)).toEqual(new Map([...live].map(([m, st]) => [m, st!.best])));

    // The refused input reached the dead-letter topic once, with the worker and the reason.
    const dead = (await s.readAll('activity.dlq'))
      .map((r) => r.decoded as { worker: string; reason: string; eventId: string | null; message: string })
      .filter((d) => d.worker === workerName);
    const refused = reference.outputs.filter((o) => o.topic === 'activity.dlq');
    expect(dead.map((d) => d.eventId).sort()).toEqual(
      refused.map((o) => (o.value as { eventId: string }).eventId).sort(),
    );
    expect(dead.filter((d) => d.eventId?.endsWith(':a1-late'))).toEqual([
      expect.objectContaining({
        reason: reasons.lateEvent,
        message: "occurredAt: before the member's last counted day",
      }),
    ]);
  });
});
