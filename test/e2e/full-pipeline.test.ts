import { workerDefinition } from '../../services/index.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { produceCommand } from '../../cli/commands/produce.js';
import { tickerCommand } from '../../cli/commands/ticker.js';
import { pointsLogic } from '../../services/points-accrual/decide.js';
import type { PointsState } from '../../services/points-accrual/state.js';
import { tierEvaluationDecoder, tierEvaluationWorker } from '../../services/tier-evaluation/worker.js';
import { churnPredictionWorker } from '../../services/churn-prediction/worker.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { Rules } from '../../shared/config/rules.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { defaultLimits } from '../../shared/runtime/run-worker.js';
import type { Decoded, OutputEvent, WorkerLogic } from '../../shared/kernel/types.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { mulberry32 } from '../support/activity-generator.js';
import { TestStack, sleep, waitFor, type ReadRecord } from '../support/harness.js';
import {
  buildJavaNotifier,
  checkNotifier,
  startExampleNotifier,
  type ExampleNotifier,
} from '../support/example-notifiers.js';

const retail = fileURLToPath(new URL('../../data/online-retail/online-retail.csv.gz', import.meta.url));
const tickPlaceholder: Decoded<never> = {
  kind: 'rejected',
  rejection: { reason: 'tick', message: 'tick' },
  eventId: null,
  memberId: null,
};
const long = 1_500_000;

/**
 * The whole Online Retail data set through behavior-events, points-accrual and
 * tier-evaluation on the real stack, with SIGKILLs, compared with the pure
 * reference runs; then a backfill of tiers under a changed ladder; then time
 * passes (ticks a year and more after the data) and everything expires.
 */
describe('e2e: the whole Online Retail data set through all workers', () => {
  let s: TestStack;
  const rnd = mulberry32(Date.now() & 0xffff);
  const stats: Record<string, unknown> = {};
  beforeAll(async () => {
    s = await TestStack.create('pipeline', { partitions: 3 });
    // The Java example notifier the tiers test runs (Maven; its jars come from Maven Central once).
    buildJavaNotifier();
  });
  afterAll(async () => {
    process.stderr.write(`[pipeline] ${JSON.stringify(stats)}\n`);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
  });
  const ctx = () => ({ env: s.env, rules: s.rules, log: s.log });

  /** Runs a worker as a process, SIGKILLs it `kills` times mid-stream, then lets it finish. */
  async function runWithKills(
    worker: string,
    input: Parameters<TestStack['lag']>[1],
    kills: number,
    afterFirstKill?: () => Promise<void>,
  ): Promise<number[]> {
    const lags: number[] = [];
    for (let k = 0; k < kills; k++) {
      const before = await s.committedTotal(worker, input);
      const child = s.spawnWorker(worker, [], { KAFKA_MAX_BYTES_PER_PARTITION: '262144' });
      await waitFor(
        async () => (await s.committedTotal(worker, input)) > before,
        180_000,
        `${worker} to commit a batch`,
      );
      await sleep(300 + Math.floor(rnd() * 2500));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      lags.push(await s.lag(worker, input));
      if (k === 0) await afterFirstKill?.();
    }
    const last = s.spawnWorker(worker);
    await s.waitForLag0(worker, input, 900_000);
    last.kill('SIGTERM');
    await new Promise((r) => last.once('exit', r));
    return lags;
  }

  async function compare<S, E>(
    logic: WorkerLogic<S, E>,
    input: ReadRecord[],
    eventOf: (r: ReadRecord) => Decoded<E>,
    rules: Rules,
    outputTopics: string[],
    worker: string,
  ) {
    const log = input.map((record) => ({
      record,
      decoded: record.tick !== undefined ? (tickPlaceholder as Decoded<E>) : eventOf(record),
    }));
    const reference = referenceRun(logic, log, rules, defaultLimits(rules));
    const published: ReadRecord[] = [];
    // (No push(...records): a spread of 400k arguments overflows the stack.)
    for (const t of outputTopics) for (const r of await s.readAll(t as 'points.ledger')) published.push(r);
    const firstById = new Map<string, ReadRecord>();
    // Forwarded ticks are compared by the workers downstream that consume them, not here.
    for (const r of published) if (r.id && r.tick === undefined && !firstById.has(r.id)) firstById.set(r.id, r);
    const expected = new Map<string, OutputEvent>(reference.outputs.filter((o) => !o.tick).map((o) => [o.id, o]));
    expect(firstById.size).toBe(expected.size);
    for (const [id, o] of expected) expect(firstById.get(id)?.decoded, id).toEqual(o.value);
    const store = new MemberStore<S>(s.clients.redis, s.ns, workerDefinition(worker));
    const loaded = await store.load([...reference.states.keys()]);
    for (const [m, state] of reference.states) expect(loaded.get(m)?.record.state, m).toEqual(state);
    return { reference, published, memberCount: reference.states.size };
  }

  const asEvent = <T extends { userId: string; eventId: string }>(r: ReadRecord): Decoded<T> => {
    const e = r.decoded as T;
    return { kind: 'event', memberId: e.userId, eventId: e.eventId, event: e };
  };

  it(
    'points: every balance and the whole ledger equal the reference, points-accrual SIGKILLed 4 times',
    async () => {
      const started = Date.now();
      const produced = await produceCommand(ctx(), { file: retail, format: 'online-retail' });
      expect(produced.sent).toBeGreaterThan(400_000);
      const behavior = s.spawnWorker('behavior-events');
      const kills = await runWithKills('points-accrual', 'behavior.events', 4);
      await s.waitForLag0('behavior-events', 'activity.events', 900_000);
      behavior.kill('SIGTERM');
      stats.pointsKills = kills;
      stats.processingSeconds = Math.round((Date.now() - started) / 1000);
      expect(kills.filter((lag) => lag > 0).length).toBeGreaterThanOrEqual(2);
      const inputs = await s.readAll('behavior.events');
      const { published, memberCount } = await compare(
        pointsLogic,
        inputs,
        asEvent<BehaviorEventValue>,
        s.rules,
        ['points.ledger'],
        'points-accrual',
      );
      Object.assign(stats, {
        inputs: produced.sent,
        behaviorEvents: inputs.length,
        ledgerRecords: published.length,
        members: memberCount,
      });
      const store = new MemberStore<PointsState>(s.clients.redis, s.ns, workerDefinition('points-accrual'));
      const sample = inputs.filter((_, i) => i % 400 === 0).map((r) => r.key?.toString() ?? '');
      const bytes = await Promise.all(
        [...new Set(sample)].map((m) => s.clients.redis.memory('USAGE', store.key(m)) as Promise<number>),
      );
      stats.pointsRedisBytesPerMember = Math.round(bytes.reduce((a, b) => a + b, 0) / bytes.length);
    },
    long,
  );

  it(
    'churn: every member’s statistics and every churn-risk event equal the reference, churn-prediction SIGKILLed 3 times',
    async () => {
      const kills = await runWithKills('churn-prediction', 'behavior.events', 3);
      stats.churnKills = kills;
      expect(kills.filter((lag) => lag > 0).length).toBeGreaterThanOrEqual(2);
      const { reference, published } = await compare(
        churnPredictionWorker,
        await s.readAll('behavior.events'),
        asEvent<BehaviorEventValue>,
        s.rules,
        ['member.churn-risk'],
        'churn-prediction',
      );
      stats.churnEvents = published.length;
      stats.churnBands = count([...reference.states.values()].map((st) => st.band ?? 'none'));
    },
    long,
  );

  it(
    'tiers: member.tier-changes and member.tiers equal the reference; a notification consumer sees each change once, in order, through SIGKILLs',
    async () => {
      // A downstream notification service: its own group, reading while the tier worker is killed and restarted.
      const received: { key: string; id: string }[] = [];
      const consumer = s.clients.kafka.consumer({ groupId: `${s.ns}.notifications` });
      await consumer.connect();
      await consumer.subscribe({ topic: s.topic('member.tier-changes'), fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          received.push({
            key: message.key?.toString() ?? '',
            id: message.headers?.['memberflow-event-id']?.toString() ?? '',
          });
          return Promise.resolve();
        },
      });

      // The example notifiers (examples/node-notifier, examples/java-notifier) start mid-run: they bootstrap from member.tiers as it is then.
      const notifiers: ExampleNotifier[] = [];
      // eslint-disable-next-line @typescript-eslint/require-await -- runWithKills takes a Promise-returning callback
      const startNotifiers = async () => {
        const env = {
          KAFKA_BROKERS: s.env.KAFKA_BROKERS.join(','),
          SCHEMA_REGISTRY_URL: s.env.SCHEMA_REGISTRY_URL,
          MEMBERFLOW_NAMESPACE: s.ns,
        };
        notifiers.push(
          startExampleNotifier('node-notifier', process.execPath, ['examples/node-notifier/notifier.mjs'], env),
        );
        notifiers.push(
          startExampleNotifier(
            'java-notifier',
            'java',
            [
              '-cp',
              'examples/java-notifier/target/classes:examples/java-notifier/target/dependency/*',
              'io.memberflow.examples.Notifier',
            ],
            env,
          ),
        );
      };
      // Never left running, whatever fails below.
      onTestFinished(() => notifiers.forEach((n) => n.child.kill('SIGKILL')));
      stats.tierKills = await runWithKills('tier-evaluation', 'points.ledger', 3, startNotifiers);
      const ledger = await s.readAll('points.ledger');
      const { reference, published } = await compare(
        tierEvaluationWorker,
        ledger,
        asEvent,
        s.rules,
        ['member.tier-changes', 'member.tiers'],
        'tier-evaluation',
      );
      const changes = reference.outputs.filter((o) => o.topic === 'member.tier-changes');
      expect(changes.length).toBeGreaterThan(1000);
      await waitFor(
        () => new Set(received.map((r) => r.id)).size >= changes.length,
        120_000,
        'the notification consumer to catch up',
      );
      await consumer.disconnect();

      // Each notifier acts on exactly the changes after its table, each once, in order, and ends with every member's final tier.
      for (const n of notifiers) await checkNotifier(n, changes, reference.outputs);
      // Deduplicated by event id: exactly the reference's changes, in the reference's order per member.
      const seen = new Set<string>();
      const perMember = new Map<string, string[]>();
      for (const r of received) {
        if (seen.has(r.id)) continue;
        seen.add(r.id);
        perMember.set(r.key, [...(perMember.get(r.key) ?? []), r.id]);
      }
      const want = new Map<string, string[]>();
      for (const o of changes) want.set(o.key, [...(want.get(o.key) ?? []), o.id]);
      expect(perMember).toEqual(want);
      stats.tierChanges = changes.length;
      stats.tierChangeRecords = received.length;

      // member.tiers: the latest record per member (highest offset) holds the reference's final tier.
      const tiers = published.filter((r) => r.topic.endsWith('member.tiers'));
      const latest = latestPerKey(
        tiers.map((r) => ({
          key: r.key?.toString() ?? '',
          partition: r.partition,
          offset: BigInt(r.offset),
          value: r.decoded,
        })),
      );
      const wantLatest = new Map<string, unknown>();
      for (const o of reference.outputs) if (o.topic === 'member.tiers') wantLatest.set(o.key, o.value);
      expect(new Map([...latest].map(([k, v]) => [k, v.value]))).toEqual(wantLatest);
      // kcat, an independent client, agrees on which record is the latest per key (compaction may not have run yet: older ones may still be there).
      const lines = execFileSync(
        'kcat',
        [
          '-C',
          '-b',
          s.env.KAFKA_BROKERS[0]!,
          '-t',
          s.topic('member.tiers'),
          '-o',
          'beginning',
          '-e',
          '-q',
          '-f',
          '%k\t%p\t%o\n',
        ],
        { encoding: 'utf8', maxBuffer: 256 << 20 },
      )
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t'))
        .map(([key, p, o]) => ({ key: key!, partition: Number(p), offset: BigInt(o!), value: null }));
      const kcatLatest = latestPerKey(lines);
      expect([...kcatLatest].map(([k, v]) => `${k}@${v.partition}:${v.offset}`).sort()).toEqual(
        [...latest].map(([k, v]) => `${k}@${v.partition}:${v.offset}`).sort(),
      );
      stats.tierMembers = latest.size;
      stats.tierDistribution = count([...latest.values()].map((v) => (v.value as { tier: string }).tier));
    },
    long,
  );

  it(
    'a changed ladder applied to history by a backfill into a fresh namespace differs exactly where the rule says',
    async () => {
      const raised: Rules = structuredClone(s.rules);
      raised.version = `${s.rules.version}+silver301`;
      raised.tiers.ladder[1]!.minPoints = 301;
      const shadow = await TestStack.create('pipeline-backfill', { partitions: 3 });
      try {
        const w = await shadow.startDefinition(
          tierEvaluationWorker,
          tierEvaluationDecoder(shadow.clients.codec),
          raised,
          { inputNamespace: s.ns },
        );
        const group = `${shadow.ns}.tier-evaluation`;
        await waitFor(
          async () => {
            const ends = await shadow.admin.fetchTopicOffsets(s.topic('points.ledger'));
            const [c] = await shadow.admin.fetchOffsets({ groupId: group, topics: [s.topic('points.ledger')] });
            return ends.every((e) => c?.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
          },
          900_000,
          'the backfill to catch up',
        );
        await w.stop();
        const ledger = await s.readAll('points.ledger');
        const log = ledger.map((record) => ({
          record,
          decoded: record.tick !== undefined ? (tickPlaceholder as Decoded<never>) : asEvent(record),
        }));
        const before = finalTiers(referenceRun(tierEvaluationWorker, log, s.rules, defaultLimits(s.rules)).outputs);
        const after = finalTiers(referenceRun(tierEvaluationWorker, log, raised, defaultLimits(raised)).outputs);
        const live = new Map(
          [...latestPerKey((await s.readAll('member.tiers')).map(toKeyed))].map(([k, v]) => [
            k,
            (v.value as { tier: string }).tier,
          ]),
        );
        const backfilled = new Map(
          [...latestPerKey((await shadow.readAll('member.tiers')).map(toKeyed))].map(([k, v]) => [
            k,
            (v.value as { tier: string }).tier,
          ]),
        );
        expect(live).toEqual(before);
        expect(backfilled).toEqual(after);
        const differing = [...live.keys()].filter((m) => live.get(m) !== backfilled.get(m));
        expect(differing.length).toBeGreaterThan(0);
        // Only the silver threshold moved (101 → 301): only silver members can have changed, and only to bronze.
        for (const m of differing) expect([live.get(m), backfilled.get(m)]).toEqual(['silver', 'bronze']);
        stats.backfillDiffering = differing.length;
      } finally {
        await shadow.close();
      }
    },
    long,
  );

  it(
    'time passes with nobody active: ticks after the data expire every lot and bring every tier down, exactly as the reference says',
    async () => {
      for (const time of [Date.UTC(2012, 5, 1), Date.UTC(2013, 0, 1), Date.UTC(2013, 5, 1)])
        await tickerCommand(ctx(), { intervalMs: 1, once: true, time });
      for (const [worker, input] of [
        ['behavior-events', 'activity.events'],
        ['points-accrual', 'behavior.events'],
        ['tier-evaluation', 'points.ledger'],
        ['churn-prediction', 'behavior.events'],
      ] as const) {
        const child = s.spawnWorker(worker);
        await s.waitForLag0(worker, input, 600_000);
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await compare(
        pointsLogic,
        await s.readAll('behavior.events'),
        asEvent<BehaviorEventValue>,
        s.rules,
        ['points.ledger'],
        'points-accrual',
      );
      const { reference } = await compare(
        tierEvaluationWorker,
        await s.readAll('points.ledger'),
        asEvent,
        s.rules,
        ['member.tier-changes', 'member.tiers'],
        'tier-evaluation',
      );
      const churn = await compare(
        churnPredictionWorker,
        await s.readAll('behavior.events'),
        asEvent<BehaviorEventValue>,
        s.rules,
        ['member.churn-risk'],
        'churn-prediction',
      );
      // 18 months past the data with no purchase: nobody is low risk any more (one-time buyers
      // plateau in medium: with few purchases, a long silence is what the model expects of them).
      const bands = count([...churn.reference.states.values()].map((st) => st.band ?? 'none'));
      stats.churnBandsAfterTicks = bands;
      expect(bands.low ?? 0).toBe(0);
      expect(bands.high ?? 0).toBeGreaterThan(0);
      const final = finalTiers(reference.outputs);
      stats.tiersAfterTicks = count([...final.values()]);
      expect(new Set(final.values())).toEqual(new Set([s.rules.tiers.ladder[0]!.name]));
    },
    long,
  );
});

function toKeyed(r: ReadRecord) {
  return { key: r.key?.toString() ?? '', partition: r.partition, offset: BigInt(r.offset), value: r.decoded };
}

function latestPerKey<T extends { key: string; partition: number; offset: bigint }>(records: T[]): Map<string, T> {
  const m = new Map<string, T>();
  for (const r of records) {
    const seen = m.get(r.key);
    if (!seen || r.offset > seen.offset) m.set(r.key, r);
  }
  return m;
}

function finalTiers(outputs: OutputEvent[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const o of outputs) if (o.topic === 'member.tiers') m.set(o.key, (o.value as { tier: string }).tier);
  return m;
}

function count(values: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const v of values) c[v] = (c[v] ?? 0) + 1;
  return c;
}
