import { workerDefinition } from '../../services/index.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayDiscard } from '../../cli/commands/replay/discard.js';
import { replayPromote } from '../../cli/commands/replay/promote.js';
import { replayRun } from '../../cli/commands/replay/run.js';
import { openReplayContext, type ReplayContext } from '../../cli/commands/replay/shared.js';
import { consumerGroup } from '../../shared/contracts/topics.js';
import { topicPartitionId } from '../../shared/kernel/offsets.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { TestStack, waitFor, type WorkerProcess } from '../support/harness.js';
import { doubledPoints, expectedLedger, purchases } from '../support/points-fixtures.js';

/**
 * The worst moment for a promote: the live worker published a batch's outputs under the old
 * rules and died before committing its offsets. Its group's committed offsets then lie before
 * inputs whose outputs are already on the live topic; a switch there would have the new
 * generation decide them again, under the new rules, with the same ids.
 */
describe('promote after the live worker died between publishing and committing', () => {
  let s: TestStack;
  let rc: ReplayContext;
  const workers: WorkerProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'promote-finish-'));
  const shadow = () => `${s.ns}-dbl`;

  beforeAll(async () => {
    s = await TestStack.create('promote-finish', { partitions: 1 });
    rc = await openReplayContext({ env: s.env, rules: s.rules, log: s.log }, 'promote-finish-test');
  });
  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
    await replayDiscard(rc, shadow()).catch(() => undefined);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await rc?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
  });

  const exited = (w: WorkerProcess) =>
    new Promise<string | null>((r) =>
      w.exitCode !== null || w.signalCode !== null ? r(w.signalCode) : w.once('exit', (_c, sig) => r(sig)),
    );

  it('finishes the old generation up to what it applied, so no id is published with two contents', async () => {
    const started = Date.now();
    // Each step is printed as it ends, so a run that times out shows where it stood.
    const phase = (name: string) =>
      process.stderr.write(`[promote-finish] ${name} at ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    const doubled = doubledPoints(s.rules);
    writeFileSync(join(dir, 'double.json'), JSON.stringify(doubled));
    await s.produceJson(purchases(0, 200));
    workers.push(s.spawnWorker('behavior-events'));
    await s.waitForLag0('behavior-events', 'activity.events', 120_000);
    const first = s.spawnWorker('points-accrual');
    workers.push(first);
    await s.waitForLag0('points-accrual', 'behavior.events', 120_000);
    first.kill('SIGTERM');
    await exited(first);
    phase('live workers caught up and stopped');

    // The replay under doubled points reads what is there now; the live worker then falls behind it.
    await expect(
      replayRun(rc, {
        worker: 'points-accrual',
        namespace: shadow(),
        from: 'beginning',
        rulesFile: join(dir, 'double.json'),
      }),
    ).resolves.toMatchObject({ completed: true });
    phase('replay run completed');
    // Sent in small requests, so behavior.events holds small record batches and the worker's small fetches see a few each.
    for (let i = 0; i < 60; i++) await s.produceJson(purchases(200 + i * 10, 10));
    await s.waitForLag0('behavior-events', 'activity.events', 120_000);

    // The third batch that changes state is published, and the worker dies before committing it.
    const dying = s.spawnWorker('points-accrual', [], {
      MEMBERFLOW_FAILPOINT: 'kill-after-publish:3',
      KAFKA_MAX_BYTES_PER_PARTITION: '4096',
    });
    workers.push(dying);
    expect(await exited(dying)).toBe('SIGKILL');
    phase('worker killed after publishing');
    await waitFor(
      async () =>
        (await rc.admin.describeGroups([consumerGroup(s.ns, 'points-accrual')])).groups[0]!.members.length === 0,
      60_000,
      'the killed worker to leave its group',
    );
    phase('killed worker left its group');
    const topic = s.topic('behavior.events');
    const [offsets] = await rc.admin.fetchOffsets({ groupId: consumerGroup(s.ns, 'points-accrual'), topics: [topic] });
    const committedAt = BigInt(offsets!.partitions[0]!.offset);
    const mark = (await new MemberStore(s.clients.redis, s.ns, workerDefinition('points-accrual')).appliedMarks()).get(
      topicPartitionId(topic, 0),
    );
    // The moment this test is about: outputs published for inputs past the committed offset.
    expect(mark).toBeDefined();
    expect(BigInt(mark!)).toBeGreaterThanOrEqual(committedAt);
    const publishedBeforePromote = (await s.readAll('points.ledger')).length;

    const promoted = await replayPromote(rc, { namespace: shadow(), leaveTimeoutMs: 60_000 });
    phase(`promoted: ${promoted.finishedRecords} records finished`);
    expect(promoted.finishedRecords).toBe(Number(BigInt(mark!) + 1n - committedAt));
    expect(BigInt(promoted.switchedAt[`${topic}#0`]!)).toBe(BigInt(mark!) + 1n);
    const next = s.spawnWorker('points-accrual');
    workers.push(next);
    await s.waitForLag0('points-accrual', 'behavior.events', 120_000, `${shadow()}.points-accrual`);
    phase('the promoted generation caught up');

    // One content per id: old rules before the switch, doubled from it; nothing missing.
    const all = await s.readAll('behavior.events');
    const expected = expectedLedger(all, promoted.switchedAt, s.rules, doubled);
    const published = await s.readAll('points.ledger');
    expect(published.length).toBeGreaterThan(publishedBeforePromote);
    const ids = new Set<string>();
    for (const r of published) {
      ids.add(r.id!);
      expect(r.decoded, r.id!).toEqual(expected.get(r.id!)?.value);
    }
    expect(ids.size).toBe(expected.size);
  }, 300_000);
});
