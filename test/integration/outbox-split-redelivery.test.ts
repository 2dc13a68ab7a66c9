import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateActivity } from '../support/activity-generator.js';
import { TestStack, exitOf } from '../support/harness.js';

const worker = 'behavior-events';

/**
 * A batch whose state was written but whose offsets were never committed is redone by the next
 * run, which may fetch it in smaller pieces (another fetch size, a leader change, a client
 * restart). A member of the first piece also holds outbox entries of the later pieces: committing
 * the first piece must drop only what lies at or below its position, or the later pieces find
 * their inputs applied and nothing left to publish.
 */
describe('a redone batch fetched in smaller pieces', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await TestStack.create('outbox-split', { partitions: 1 });
  });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
  afterAll(async () => s?.close());

  it('publishes every output of the batch once, though its members span the pieces', { timeout: 240_000 }, async () => {
    const stream = generateActivity(1_500, { seed: 11, members: 40 });
    // Small sends make small record batches, so a small fetch size really fetches a few records at a time.
    for (let i = 0; i < stream.length; i += 25) await s.produce('activity.events', stream.slice(i, i + 25));

    // One large batch: its state is written, then the process dies before publishing or committing.
    const first = s.spawnWorker(worker, [], { MEMBERFLOW_FAILPOINT: 'kill-after-state-write:1' });
    expect((await exitOf(first, 90_000, 'the worker to reach its failpoint')).signal).toBe('SIGKILL');
    expect(await s.committedTotal(worker, 'activity.events')).toBe(0);

    // The next run takes the same records a few at a time.
    const second = s.spawnWorker(worker, ['--exit-when-idle', '1500'], { KAFKA_MAX_BYTES_PER_PARTITION: '2048' });
    expect((await exitOf(second, 120_000, 'the second run to catch up and exit when idle')).code).toBe(0);

    const inputs = await s.readAll('activity.events', { minRecords: stream.length });
    const reference = await s.behaviorReference(inputs);
    const published = [...(await s.readAll('behavior.events')), ...(await s.readAll('activity.dlq'))];
    const got = new Map<string, number>();
    for (const r of published) got.set(r.id!, (got.get(r.id!) ?? 0) + 1);
    const missing = reference.outputs.filter((o) => !got.has(o.id)).map((o) => o.id);
    expect(missing.slice(0, 10), `${missing.length} of ${reference.outputs.length} outputs missing`).toEqual([]);
    expect([...got.values()].filter((n) => n > 1)).toEqual([]);
    expect(got.size).toBe(reference.outputs.length);
  });
});
