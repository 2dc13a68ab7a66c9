import { workerDefinition } from '../../services/index.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayDiff } from '../../cli/commands/replay/diff.js';
import { discardOldState, replayDiscard } from '../../cli/commands/replay/discard.js';
import { dlqList, dlqReprocess } from '../../cli/commands/replay/dlq.js';
import { replayPromote } from '../../cli/commands/replay/promote.js';
import { rebuild } from '../../cli/commands/replay/rebuild.js';
import { replayPlan, replayRun } from '../../cli/commands/replay/run.js';
import { openReplayContext, ReplayRefused, type ReplayContext } from '../../cli/commands/replay/shared.js';
import type { PointsState } from '../../services/points-accrual/state.js';
import type { Rules } from '../../shared/config/rules.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { readLivePointer } from '../../shared/redis/live-pointer.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { defaultLimits } from '../../shared/runtime/run-worker.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { readReplayMeta } from '../../shared/replay/meta.js';
import { allKeys, TestStack, sleep, waitFor } from '../support/harness.js';
import {
  behaviorLog,
  doubledPoints,
  expectedLedger,
  pointsDefinition as points,
  purchases,
} from '../support/points-fixtures.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The backfill toolkit on the real stack, with a live points-accrual worker running the
 * whole time: plan (and its refusals), a replay under doubled points that is SIGKILLed and
 * resumed, diff, promote while upstream keeps producing, rebuild after a Redis loss, and the
 * dead-letter reprocess, each checked against the pure reference.
 */
describe('replay toolkit: plan, run, diff, promote, discard, rebuild, dlq', () => {
  let s: TestStack;
  let rc: ReplayContext;
  const dir = mkdtempSync(join(tmpdir(), 'replay-'));
  let doubled: Rules;
  let behavior: ChildProcess;
  const shadow = () => `${s.ns}-r2`;
  const stats: Record<string, unknown> = {};
  beforeAll(async () => {
    s = await TestStack.create('replay', { partitions: 3 });
    rc = await openReplayContext({ env: s.env, rules: s.rules, log: s.log }, 'replay-test');
    doubled = doubledPoints(s.rules);
    writeFileSync(join(dir, 'double.json'), JSON.stringify(doubled));
  });
  afterAll(async () => {
    process.stderr.write(`[replay-toolkit] ${JSON.stringify(stats)}\n`);
    for (const ns of [`${s.ns}-r1`, shadow()]) await replayDiscard(rc, ns).catch(() => undefined);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await rc?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
  });

  it('replays under new rules beside the live worker, survives a SIGKILL, and promotes with no gap and no double', async () => {
    await s.produceJson(purchases(0, 1200));
    behavior = s.spawnWorker('behavior-events');
    await s.waitForLag0('behavior-events', 'activity.events', 120_000);
    const live = s.spawnWorker('points-accrual');
    await s.waitForLag0('points-accrual', 'behavior.events', 120_000);

    // Plan: refusals, then a safe plan that reads exactly what is in behavior.events.
    const liveNs = await replayPlan(rc, { worker: 'points-accrual', namespace: s.ns, from: 'beginning' });
    expect(liveNs.refusals.map((r) => r.code)).toContain('namespace_is_live');
    const plan = await replayPlan(rc, {
      worker: 'points-accrual',
      namespace: shadow(),
      from: 'beginning',
      rulesFile: join(dir, 'double.json'),
    });
    expect(plan.refusals).toEqual([]);
    // Offsets: every record, plus the commit markers of behavior-events' transactions (one per batch and partition at most).
    const read = (await s.readAll('behavior.events')).length;
    expect(plan.records).toBeGreaterThanOrEqual(read);
    expect(plan.records - read).toBeLessThan(read / 10);
    expect(plan.liveGroupMembers).toBe(1);
    expect(plan.outputs).toContain(`${shadow()}.points.ledger`);

    // Run as a separate process, killed after its second state write; then resumed here.
    const child = spawn(
      process.execPath,
      [
        'bin/memberflow.js',
        'replay',
        'run',
        '--worker',
        'points-accrual',
        '--from',
        'beginning',
        '--namespace',
        shadow(),
        '--rules',
        join(dir, 'double.json'),
      ],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          ...s.envVars(),
          MEMBERFLOW_FAILPOINT: 'kill-after-state-write:2',
          KAFKA_MAX_BYTES_PER_PARTITION: '4096',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const signal = await new Promise<string | null>((r) => child.once('exit', (_c, sig) => r(sig)));
    expect(signal).toBe('SIGKILL');
    const meta = (await readReplayMeta(s.clients.redis, shadow()))!;
    expect(meta.status).toBe('running');
    // Until the broker notices the dead member, the replay counts as running elsewhere.
    await expect(replayRun(rc, { namespace: shadow() })).rejects.toThrow(/already running/);
    await waitFor(
      async () => (await rc.admin.describeGroups([`${shadow()}.points-accrual`])).groups[0]!.members.length === 0,
      60_000,
      'the killed replay to leave its group',
    );
    const again = await replayPlan(rc, { worker: 'points-accrual', namespace: shadow(), from: 'beginning' });
    expect(again.refusals.map((r) => r.code)).toEqual(['replay_exists']);
    const resumed = await replayRun(rc, { namespace: shadow() });
    expect(resumed).toMatchObject({ resumed: true, completed: true, remaining: 0 });
    expect(resumed.records).toBeLessThan(plan.records);
    await expect(replayRun(rc, { namespace: shadow() })).resolves.toMatchObject({ completed: true, records: 0 });

    // The replay's state = the reference under doubled points over what it read.
    const input = await s.readAll('behavior.events');
    const ends = new Map(meta.ranges.map((r) => [r.partition, BigInt(r.end)]));
    const planned = input.filter((r) => BigInt(r.offset) < ends.get(r.partition)!);
    const refDoubled = referenceRun(points, behaviorLog(planned), doubled, defaultLimits(doubled));
    const shadowStore = new MemberStore<PointsState>(s.clients.redis, shadow(), workerDefinition('points-accrual'));
    for (const [m, st] of refDoubled.states) expect(await shadowStore.state(m), m).toEqual(st);

    // Diff: every member's balance differs, and so do the ledger entries.
    const diff = await replayDiff(rc, shadow());
    expect(diff.state.members).toMatchObject({ live: 40, shadow: 40, different: 40, onlyLive: 0, onlyShadow: 0 });
    expect(diff.state.byField.available).toBe(40);
    const ledger = diff.outputs.find((o) => o.topic === 'points.ledger')!;
    expect(ledger.different).toBeGreaterThan(0);
    expect(ledger.onlyShadow + ledger.onlyLive).toBe(0);

    // Promote while upstream keeps producing and the live worker keeps running.
    let produced = 1200;
    const upstream = (async () => {
      for (let i = 0; i < 12; i++) {
        await s.produceJson(purchases(produced, 50));
        produced += 50;
        await sleep(150);
      }
    })();
    await sleep(300);
    const promoted = await replayPromote(rc, { namespace: shadow(), leaveTimeoutMs: 60_000 });
    await upstream;
    expect(promoted).toMatchObject({ worker: 'points-accrual', from: s.ns, to: shadow(), epoch: 1 });
    const pointer = await readLivePointer(s.clients.redis, s.ns, 'points-accrual');
    expect(pointer).toMatchObject({ namespace: shadow(), phase: 'live', epoch: 1 });
    await s.waitForLag0('behavior-events', 'activity.events', 120_000);
    // The same live process carries on in the new generation, with the new group.
    await s.waitForLag0('points-accrual', 'behavior.events', 120_000, `${shadow()}.points-accrual`);
    expect(live.exitCode).toBeNull();
    Object.assign(stats, { promote: promoted });

    // No gap, no double: inputs before the switch were decided once under the old rules (live
    // topic), inputs from the switch on once under the new rules; the promoted state is the
    // doubled reference over the whole log.
    const all = await s.readAll('behavior.events');
    const refNew = referenceRun(points, behaviorLog(all), doubled, defaultLimits(doubled));
    for (const [m, st] of refNew.states) expect(await shadowStore.state(m), m).toEqual(st);
    const expected = expectedLedger(all, promoted.switchedAt, s.rules, doubled);
    const after = new Set(
      all.filter(
        (r) => r.tick === undefined && BigInt(r.offset) >= BigInt(promoted.switchedAt[`${r.topic}#${r.partition}`]!),
      ),
    );
    const published = await s.readAll('points.ledger');
    const ids = new Set<string>();
    for (const r of published) {
      ids.add(r.id!);
      expect(r.decoded, r.id!).toEqual(expected.get(r.id!)?.value);
    }
    expect(ids.size).toBe(expected.size);
    Object.assign(stats, {
      inputs: all.length,
      afterSwitch: after.size,
      ledger: { published: published.length, distinct: ids.size },
    });

    // The live state cannot be discarded; the state the promote left behind can, once no worker uses it.
    await expect(replayDiscard(rc, shadow())).rejects.toBeInstanceOf(ReplayRefused);
    await expect(replayDiscard(rc, s.ns)).rejects.toBeInstanceOf(ReplayRefused);
    await expect(discardOldState(rc, shadow(), 'points-accrual')).rejects.toBeInstanceOf(ReplayRefused);
    const oldKeys = (await allKeys(s.clients.redis, `mf:${s.ns}:points-accrual:*`)).length;
    expect(oldKeys).toBeGreaterThanOrEqual(40);
    await expect(discardOldState(rc, s.ns, 'points-accrual')).resolves.toMatchObject({ keys: oldKeys, groups: 1 });
    expect(await allKeys(s.clients.redis, `mf:${s.ns}:points-accrual:*`)).toEqual([]);
    expect((await allKeys(s.clients.redis, `mf:${s.ns}:behavior-events:*`)).length).toBeGreaterThan(0);

    // Redis loses half of the live state: stop the worker, rebuild, compare again.
    live.kill('SIGTERM');
    await new Promise((r) => live.once('exit', r));
    await waitFor(
      async () => (await rc.admin.describeGroups([`${shadow()}.points-accrual`])).groups[0]!.members.length === 0,
      30_000,
      'the live group to empty',
    );
    for (let i = 0; i < 40; i += 2) await s.clients.redis.del(shadowStore.key(`m${i}`));
    const ledgerBefore = (await s.readAll('points.ledger')).length;
    // Every input was committed before: the rebuild restores state and publishes nothing again.
    await expect(rebuild(rc, 'points-accrual')).resolves.toMatchObject({
      stateNamespace: shadow(),
      records: all.length,
      outputs: 0,
    });
    for (const [m, st] of refNew.states) expect(await shadowStore.state(m), m).toEqual(st);
    expect((await s.readAll('points.ledger')).length).toBe(ledgerBefore);

    // A replay from a point in time reads only what came after it, and discard leaves nothing of it.
    const r1 = `${s.ns}-r1`;
    const fromTime = await replayPlan(rc, {
      worker: 'tier-evaluation',
      namespace: r1,
      from: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(fromTime.records).toBe(0);
    expect(fromTime.warnings.join(' ')).toMatch(/empty state/);
    await expect(replayRun(rc, { namespace: r1, worker: 'tier-evaluation', from: 'beginning' })).resolves.toMatchObject(
      { completed: true, resumed: false },
    );
    expect((await rc.admin.listTopics()).filter((t) => t.startsWith(`${r1}.`)).length).toBeGreaterThan(0);
    const removed = await replayDiscard(rc, r1);
    expect(removed.topics).toBeGreaterThan(0);
    expect(removed.keys).toBeGreaterThan(0);
    expect((await rc.admin.listTopics()).filter((t) => t.startsWith(`${r1}.`))).toEqual([]);
    expect(await allKeys(s.clients.redis, `mf:${r1}:*`)).toEqual([]);
  }, 600_000);

  it('dead letters are listed by reason and sent back once each, after a fix', async () => {
    const ceiling = s.rules.behavior.maxAmountFen;
    const big = [0, 1, 2].map((i) => ({
      eventId: `big-${i}`,
      userId: `m${i}`,
      type: 'purchase',
      occurredAt: '2011-02-01T10:00:00Z',
      amountFen: ceiling + 1 + i,
      itemId: 'course-x',
      category: 'history',
    }));
    await s.produceJson(big);
    await s.waitForLag0('behavior-events', 'activity.events', 60_000);
    const listed = await waitForDeadLetters(rc, 3);
    expect(listed.byReason.amount_above_ceiling).toBe(3);
    expect(listed.entries.map((e) => e.eventId).sort()).toEqual(['big-0', 'big-1', 'big-2']);
    await expect(dlqReprocess(rc, { reason: 'amount_above_ceiling' }, { dryRun: true })).resolves.toMatchObject({
      selected: 3,
      sent: 0,
      dryRun: true,
    });

    // The fix: a higher ceiling. Restart behavior-events with it, then send the records back, twice.
    behavior.kill('SIGTERM');
    await new Promise((r) => behavior.once('exit', r));
    const raised = { ...s.rules, behavior: { ...s.rules.behavior, maxAmountFen: ceiling * 10 } };
    writeFileSync(join(dir, 'raised.json'), JSON.stringify(raised));
    behavior = s.spawnWorker('behavior-events', [], { MEMBERFLOW_RULES_FILE: join(dir, 'raised.json') });
    await expect(dlqReprocess(rc, { reason: 'amount_above_ceiling' })).resolves.toMatchObject({
      selected: 3,
      sent: 3,
      alreadyReprocessed: 0,
    });
    await expect(dlqReprocess(rc, { reason: 'amount_above_ceiling' })).resolves.toMatchObject({
      selected: 3,
      sent: 0,
      alreadyReprocessed: 3,
    });
    await s.waitForLag0('behavior-events', 'activity.events', 60_000);
    const accepted = (await s.readAll('behavior.events')).filter((r) =>
      ((r.decoded as BehaviorEventValue | null)?.sourceEventId ?? '').startsWith('big-'),
    );
    expect(accepted.map((r) => (r.decoded as BehaviorEventValue).sourceEventId).sort()).toEqual([
      'big-0',
      'big-1',
      'big-2',
    ]);
    const after = await dlqList(rc, { reason: 'amount_above_ceiling' });
    expect(after).toMatchObject({ selected: 3, reprocessed: 3 });
  }, 300_000);
});

async function waitForDeadLetters(rc: ReplayContext, n: number) {
  for (let i = 0; i < 60; i++) {
    const r = await dlqList(rc, {});
    if (r.selected >= n) return r;
    await sleep(500);
  }
  throw new Error(`fewer than ${n} dead letters`);
}
