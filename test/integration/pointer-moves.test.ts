import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workers } from '../../services/index.js';
import { defaultPointer, readLivePointer, writeLivePointer } from '../../shared/redis/live-pointer.js';
import { runWorker } from '../../shared/runtime/run-worker.js';
import type { WorkerRuntimeOptions } from '../../shared/runtime/worker-options.js';
import { TestStack, waitFor } from '../support/harness.js';

const worker = 'behavior-events';
const purchase = (id: string, userId: string) => ({
  eventId: id,
  userId,
  type: 'purchase',
  occurredAt: Date.UTC(2026, 0, 5),
  amountFen: 500,
  itemId: 'course-1',
  category: 'cat-1',
});

/** What a worker does when its live pointer moves under it in ways a promote can leave behind. */
describe('live pointer moves under a running worker', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await TestStack.create('pointer');
  });
  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
  });

  const options = (): WorkerRuntimeOptions<unknown, unknown> => {
    const entry = workers[worker]!;
    return {
      worker: entry.definition,
      decoder: entry.decoder(s.clients.codec, () => s.rules),
      kafka: s.clients.kafka,
      redis: s.clients.redis,
      codec: s.clients.codec,
      namespace: s.ns,
      rules: s.rules,
      log: s.log,
      sessionTimeoutMs: 6000,
    };
  };
  const within = <T>(p: Promise<T>, ms: number) =>
    Promise.race([p.then(() => 'settled' as const), new Promise<'hung'>((r) => setTimeout(() => r('hung'), ms))]);

  it('a live worker stopped while a promote holds its pointer in handover stops, instead of waiting for the promote', async () => {
    const live = await runWorker({ ...options(), followPointer: true });
    await s.produceJson([purchase('pm-1', 'pia')]);
    await s.waitForLag0(worker, 'activity.events', 60_000);
    const pointer = await readLivePointer(s.clients.redis, s.ns, worker);
    await writeLivePointer(s.clients.redis, s.ns, worker, {
      ...pointer,
      epoch: pointer.epoch + 1,
      phase: 'handover',
      target: `${s.ns}-x`,
      movedAt: Date.now(),
    });
    // The pointer poll notices within a second; the generation leaves its group and waits for the pointer to be live again.
    await waitFor(
      async () => (await s.admin.describeGroups([`${s.ns}.${worker}`])).groups[0]!.members.length === 0,
      30_000,
      'the generation to leave its group',
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(await within(live.stop(), 15_000)).toBe('settled');
    await writeLivePointer(s.clients.redis, s.ns, worker, {
      ...pointer,
      epoch: pointer.epoch + 1,
      movedAt: Date.now(),
    });
  });

  it('a fenced run (rebuild, finishing an old generation) whose epoch ends fails instead of waiting for ever', async () => {
    const pointer = await readLivePointer(s.clients.redis, s.ns, worker);
    const run = await runWorker({ ...options(), fence: { topicNamespace: s.ns, worker, epoch: pointer.epoch } });
    await writeLivePointer(s.clients.redis, s.ns, worker, { ...defaultPointer(s.ns), epoch: pointer.epoch + 1 });
    await s.produceJson([purchase('pm-2', 'pia')]);
    const failed = await within(run.failed, 30_000);
    await run.stop();
    expect(failed).toBe('settled');
    expect((await run.failed).message).toMatch(/moved on/);
  });
});
