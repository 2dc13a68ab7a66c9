/**
 * The bench's measurements, each on a fresh namespace of the real stack (bench/README.md says
 * what each figure means). Processes run one after another, so each has the machine to itself,
 * except in the pipeline runs, where all six workers share it as in production.
 */
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis } from 'ioredis';
import { produceCommand } from '../../cli/commands/produce.js';
import { workers } from '../../services/index.js';
import { transactionsSetting } from '../../shared/clients.js';
import type { Env } from '../../shared/config/env.js';
import type { Rules } from '../../shared/config/rules.js';
import { consumerGroup } from '../../shared/contracts/topics.js';
import type { Logger } from '../../shared/log.js';
import { generateActivity } from '../../test/support/activity-generator.js';
import { behaviorEventId } from '../../services/behavior-events/decide.js';
import { BenchNamespace } from './bench-namespace.js';
import {
  feedAtRate,
  hopLatencies,
  summarize,
  TierChangeLatency,
  timestampsById,
  type HopLatencies,
  type LatencySummary,
} from './latency.js';
import { benchMetricsPortBase, scrapeBatchProfile, type BatchProfile } from './batch-profile.js';
import { MeasuredProcess, type ProcessStats } from './processes.js';
import { pipelineWorkers, tierPathWorkers, type Profile } from './profiles.js';
import { committedSum, endSum, measureGroup, type Throughput } from './progress.js';
import { commandCounts, commandsBetween, memoryOfNamespace, statsConnection, type MemoryUse } from './redis-usage.js';
import { checkAgainstReference, type ReplayCheck } from './replay-check.js';

const onlineRetailFile = fileURLToPath(new URL('../../data/online-retail/online-retail.csv.gz', import.meta.url));

export interface BenchDeps {
  env: Env;
  rules: Rules;
  log: Logger;
  profile: Profile;
  progress: (line: string) => void;
}

/** One process over a full input topic, with nothing else running. */
export interface Measured {
  name: string;
  /** Offsets the group committed: the records, plus the transaction markers of memberflow's own topics. */
  inputRecords: number;
  throughput: Throughput;
  /** 'process totals' (its own count and clock), or 'polled offsets' when it wrote none (a failed check). */
  rateFrom: 'process totals' | 'polled offsets';
  process: ProcessStats;
  redis: { roundTripsPerInput: number; commandsPerInput: number; byCommand: Record<string, number> };
}

export interface PipelineRun {
  inputRecords: number;
  seconds: number;
  perSecond: number;
  processes: ProcessStats[];
  memory: MemoryUse;
}

export interface LatencyRun {
  /** The workers running (all six, or only the tier path). */
  workers: string[];
  targetPerSecond: number;
  achievedPerSecond: number;
  sent: number;
  latency: LatencySummary;
  unmatched: number;
  /** How long tier-evaluation took to catch up after the last record was sent. */
  drainSeconds: number;
  /** The same latency split by worker (record timestamps of each hop). */
  hops: HopLatencies;
  /** Per worker, where its batch time went (its own metrics, scraped before it stopped). */
  batches: Record<string, BatchProfile | null>;
  processes: Array<ProcessStats & { coresUsed: number }>;
  memory: MemoryUse;
}

export interface ScaleRun {
  members: number;
  events: number;
  states: number;
  behaviorEvents: Throughput;
  pointsAccrual: Throughput;
  /** The other member workers, run after the two measured ones so that all five hold state. */
  others: Record<string, Throughput>;
  memory: MemoryUse;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface BenchResults {
  input: { events: number; members: number; partitions: number };
  alone: Measured[];
  ceiling: { noop: Measured; readWrite: Measured };
  naive: Measured;
  replayCheck: ReplayCheck;
  ratios: { pointsVsReadWriteCeiling: number; pointsVsNoopCeiling: number; pointsVsNaive: number };
  endToEnd: PipelineRun | null;
  latency: LatencyRun;
  /** The same at the profile's lower rates. */
  latencyAlso: LatencyRun[];
  onlineRetail: PipelineRun | null;
  scale: ScaleRun[];
  /** The same measurements with MEMBERFLOW_TRANSACTIONS=off (null when the run itself had them off): what transactions cost. */
  withoutTransactions: TransactionsCost | null;
  checks: Check[];
}

/** behavior-events and points-accrual alone, and the latency at the goal's rate, with transactions off. */
export interface TransactionsCost {
  alone: Measured[];
  latency: LatencyRun | null;
}

/** The workers measured alone with and without transactions: those of the short profile. */
export const transactionsCostWorkers = ['behavior-events', 'points-accrual'] as const;

export async function runBench(d: BenchDeps): Promise<BenchResults> {
  const { profile: p, progress } = d;
  const redis = await statsConnection(d.env);
  try {
    progress(`generating ${p.events} activity records over ${p.members} members`);
    const input = generateActivity(p.events, { members: p.members, seed: 11 });
    const main = await BenchNamespace.create('main', d.env, p.partitions, d.log);
    const alone: Measured[] = [];
    let ceiling: BenchResults['ceiling'];
    let naive: Measured;
    let replayCheck: ReplayCheck;
    try {
      await main.produce('activity.events', input);
      progress(`produced into ${main.ns}`);
      for (const w of p.alone) {
        alone.push(await measureWorkerAlone(main, w, redis));
        progress(`${w} alone: ${fmtRate(alone[alone.length - 1]!.throughput)}`);
      }
      const pointsInput = main.topic('behavior.events');
      const out = await main.scratchTopic('ceiling-out');
      const noop = await measureProcess(
        main,
        redis,
        () =>
          new MeasuredProcess('ceiling: read only', 'bench/reference/ceiling-consumer.ts', [], {
            ...main.envVars(),
            BENCH_MODE: 'noop',
            BENCH_INPUT_TOPIC: pointsInput,
            BENCH_GROUP: `${main.ns}.ceiling-noop`,
          }),
        `${main.ns}.ceiling-noop`,
        [pointsInput],
      );
      progress(`ceiling (read only): ${fmtRate(noop.throughput)}`);
      const readWrite = await measureProcess(
        main,
        redis,
        () =>
          new MeasuredProcess('ceiling: read + write one per input', 'bench/reference/ceiling-consumer.ts', [], {
            ...main.envVars(),
            BENCH_MODE: 'read-write',
            BENCH_INPUT_TOPIC: pointsInput,
            BENCH_OUTPUT_TOPIC: out,
            BENCH_GROUP: `${main.ns}.ceiling-rw`,
          }),
        `${main.ns}.ceiling-rw`,
        [pointsInput],
      );
      progress(`ceiling (read + write): ${fmtRate(readWrite.throughput)}`);
      ceiling = { noop, readWrite };
      const naiveNs = await BenchNamespace.create('naive', d.env, p.partitions, d.log);
      try {
        naive = await measureProcess(
          naiveNs,
          redis,
          () =>
            new MeasuredProcess('naive points-accrual', 'bench/reference/naive-points-accrual.ts', [], {
              ...naiveNs.envVars(),
              BENCH_INPUT_TOPIC: pointsInput,
              BENCH_GROUP: `${naiveNs.ns}.naive`,
            }),
          `${naiveNs.ns}.naive`,
          [pointsInput],
          { maxSeconds: p.naiveSeconds, admin: main },
        );
      } finally {
        await naiveNs.close();
      }
      progress(`naive baseline: ${fmtRate(naive.throughput)}`);
      progress('replay check of points-accrual against the reference run');
      replayCheck = await checkAgainstReference(main, 'points-accrual', d.rules);
      progress(
        `replay check: ${replayCheck.statesCompared} states, ${replayCheck.outputsCompared} outputs, ${replayCheck.mismatches} mismatches`,
      );
    } finally {
      await main.close();
    }
    const points = alone.find((m) => m.name === 'points-accrual')!;
    const ratios = {
      pointsVsReadWriteCeiling: points.throughput.perSecond / ceiling.readWrite.throughput.perSecond,
      pointsVsNoopCeiling: points.throughput.perSecond / ceiling.noop.throughput.perSecond,
      pointsVsNaive: points.throughput.perSecond / naive.throughput.perSecond,
    };

    // The long sections report a failure as a failed check and the run goes on with the others.
    const failures: Check[] = [];
    const attempt = async <T>(name: string, run: () => Promise<T>): Promise<T | null> => {
      try {
        return await run();
      } catch (err) {
        progress(`${name} failed: ${(err as Error).message}`);
        failures.push({ name, ok: false, detail: (err as Error).message.slice(0, 500) });
        return null;
      }
    };
    const endToEnd = p.endToEnd ? await attempt('end to end', () => measurePipeline(d, 'e2e', input)) : null;
    if (endToEnd) progress(`end to end: ${Math.round(endToEnd.perSecond)} input events/s`);
    progress(`latency: ${p.latency.perSecond} events/s for ${p.latency.seconds} s through all six workers`);
    const latency = await measureLatency(d, p.latency.perSecond);
    progress(
      `latency p50 ${latency.latency.p50} ms, p99 ${latency.latency.p99} ms over ${latency.latency.samples} tier changes`,
    );
    const latencyAlso: LatencyRun[] = [];
    if (p.latency.tierPathAlso) {
      const run = await attempt('latency, tier path only', () =>
        measureLatency(d, p.latency.perSecond, tierPathWorkers),
      );
      if (run) {
        latencyAlso.push(run);
        progress(`latency, tier path only: p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms`);
      }
    }
    for (const rate of p.latency.alsoAt) {
      const run = await attempt(`latency at ${rate}/s`, () => measureLatency(d, rate));
      if (run) {
        latencyAlso.push(run);
        progress(`latency at ${rate}/s: p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms`);
      }
    }
    const onlineRetail = p.onlineRetail
      ? await attempt('Online Retail', () => measurePipeline(d, 'retail', null))
      : null;
    if (onlineRetail) progress(`Online Retail: ${Math.round(onlineRetail.memory.bytesPerMember)} bytes per member`);
    const scale: ScaleRun[] = [];
    for (const members of p.scale) {
      const run = await attempt(`scale ${members}`, () => measureScale(d, members, redis));
      if (run) {
        scale.push(run);
        progress(`scale ${members} members: points-accrual ${fmtRate(run.pointsAccrual)}`);
      }
    }

    // Last, so the runs above are measured as before: the same input and the goal's latency once more, transactions off.
    const withoutTransactions =
      transactionsSetting(d.env) === 'on'
        ? await attempt('without transactions', () => measureWithoutTransactions(d, input, redis))
        : null;

    const checks: Check[] = [
      {
        name: 'replay check',
        ok: replayCheck.mismatches === 0,
        detail: `${replayCheck.mismatches} mismatches${replayCheck.samples.length ? `: ${replayCheck.samples.join('; ')}` : ''}`,
      },
      {
        name: 'latency samples',
        ok: latency.latency.samples > 0,
        detail: `${latency.latency.samples} tier changes matched to their activity records`,
      },
      ...[...alone, ceiling.noop, ceiling.readWrite, naive]
        .filter((m) => m.rateFrom !== 'process totals')
        .map((m) => ({
          name: `${m.name} rate`,
          ok: false,
          detail: 'the process wrote no totals: its rate is the polled one',
        })),
      ...failures,
    ];
    return {
      input: { events: p.events, members: p.members, partitions: p.partitions },
      alone,
      ceiling,
      naive,
      replayCheck,
      ratios,
      endToEnd,
      latency,
      latencyAlso,
      onlineRetail,
      scale,
      withoutTransactions,
      checks,
    };
  } finally {
    redis.disconnect();
  }
}

function fmtRate(t: Throughput): string {
  return `${Math.round(t.perSecond)} records/s (${t.records} in ${t.seconds.toFixed(2)} s)`;
}

async function measureWorkerAlone(
  b: BenchNamespace,
  worker: string,
  redis: Redis | Cluster,
  env: Record<string, string> = {},
): Promise<Measured> {
  const topics = workers[worker]!.definition.inputs.map((t) => b.topic(t));
  return measureProcess(
    b,
    redis,
    () => MeasuredProcess.worker(worker, { ...b.envVars(), ...env }),
    consumerGroup(b.ns, worker),
    topics,
  );
}

/** Runs one process over the whole of `topics` (or for `maxSeconds`), then stops it and reads its probe. */
async function measureProcess(
  b: BenchNamespace,
  redis: Redis | Cluster,
  start: () => MeasuredProcess,
  group: string,
  topics: string[],
  opts: { maxSeconds?: number; admin?: BenchNamespace } = {},
): Promise<Measured> {
  const admin = (opts.admin ?? b).admin;
  const target = await endSum(admin, topics);
  // Snapshot first, then start: the process's start-up commands count, as its round trips do.
  const before = await commandCounts(redis);
  const proc = start();
  let throughput: Throughput;
  try {
    throughput = await measureGroup(admin, group, topics, {
      target,
      ...(opts.maxSeconds === undefined ? {} : { maxSeconds: opts.maxSeconds }),
      alive: () => {
        if (proc.hasExited) throw new Error(proc.failure());
      },
    });
  } catch (err) {
    await proc.stop().catch(() => undefined);
    throw err;
  }
  const stats = await proc.stop();
  const processed = await committedSum(admin, group, topics);
  // The process's own clock when it wrote one (first batch start to last batch end); else the polled rate.
  const own = stats.batches !== null && stats.batches.seconds > 0;
  if (own)
    throughput = {
      records: stats.batches!.records,
      seconds: stats.batches!.seconds,
      perSecond: stats.batches!.records / stats.batches!.seconds,
    };
  const commands = commandsBetween(before, await commandCounts(redis));
  return {
    name: proc.name,
    inputRecords: processed,
    throughput,
    rateFrom: own ? 'process totals' : 'polled offsets',
    process: stats,
    redis: {
      roundTripsPerInput: stats.redisRoundTrips / processed,
      commandsPerInput: commands.total / processed,
      byCommand: commands.byCommand,
    },
  };
}

/** Lag of every worker named (the running ones): records of its inputs not yet committed by its group. */
async function pipelineLag(b: BenchNamespace, names: readonly string[]): Promise<number> {
  let lag = 0;
  for (const w of names) {
    const topics = workers[w]!.definition.inputs.map((t) => b.topic(t));
    lag += (await endSum(b.admin, topics)) - (await committedSum(b.admin, consumerGroup(b.ns, w), topics));
  }
  return lag;
}

function startPipeline(
  b: BenchNamespace,
  names: readonly string[] = pipelineWorkers,
  env: Record<string, string> = {},
): MeasuredProcess[] {
  return names.map((w) => MeasuredProcess.worker(w, { ...b.envVars(), ...env }));
}

/** One round of `--latency-cost`: the latency to a tier change and its split by hop, with and without transactions. */
export interface LatencyCostRound {
  with: LatencySummary;
  without: LatencySummary;
  hopsWith: HopLatencies;
  hopsWithout: HopLatencies;
  batchesWith: Record<string, BatchProfile | null>;
  batchesWithout: Record<string, BatchProfile | null>;
}

/**
 * Only the latency at the goal's rate, with transactions and without, alternating `rounds` times
 * (`npm run bench -- --latency-cost`): the transactions' latency cost without the rest of the bench.
 */
export async function latencyCost(d: BenchDeps, rounds: number): Promise<LatencyCostRound[]> {
  const out: LatencyCostRound[] = [];
  const hops = (h: HopLatencies) =>
    `hops p50/p99 ${h.behaviorEvents.p50}/${h.behaviorEvents.p99}, ${h.pointsAccrual.p50}/${h.pointsAccrual.p99}, ` +
    `${h.tierEvaluation.p50}/${h.tierEvaluation.p99} ms`;
  const batches = (run: LatencyRun) =>
    tierPathWorkers
      .map((w) => {
        const p = run.batches[w];
        return p
          ? `${w} ${p.batches} batches of ${p.recordsPerBatch.toFixed(1)} records, ${p.batchMs.toFixed(1)} ms each ` +
              `(Redis ${p.redisMs.toFixed(1)}, commit ${p.commitMs.toFixed(1)}), ${p.consumerRestarts} consumer restarts`
          : `${w} no metrics`;
      })
      .join('; ');
  for (let i = 0; i < rounds; i++) {
    const on = await measureLatency(d, d.profile.latency.perSecond, pipelineWorkers, { MEMBERFLOW_TRANSACTIONS: 'on' });
    d.progress(`round ${i + 1}, transactions on: p50 ${on.latency.p50} ms, p99 ${on.latency.p99} ms; ${hops(on.hops)}`);
    d.progress(`  ${batches(on)}`);
    const off = await measureLatency(d, d.profile.latency.perSecond, pipelineWorkers, {
      MEMBERFLOW_TRANSACTIONS: 'off',
    });
    d.progress(
      `round ${i + 1}, transactions off: p50 ${off.latency.p50} ms, p99 ${off.latency.p99} ms; ${hops(off.hops)}; ` +
        `p99 ratio ${(on.latency.p99 / off.latency.p99).toFixed(2)}`,
    );
    d.progress(`  ${batches(off)}`);
    out.push({
      with: on.latency,
      without: off.latency,
      hopsWith: on.hops,
      hopsWithout: off.hops,
      batchesWith: on.batches,
      batchesWithout: off.batches,
    });
  }
  return out;
}

/** The cost of transactions: the first workers alone over the same input, and the goal's latency, with MEMBERFLOW_TRANSACTIONS=off. */
async function measureWithoutTransactions(
  d: BenchDeps,
  input: ReturnType<typeof generateActivity>,
  redis: Redis | Cluster,
): Promise<TransactionsCost> {
  const off = { MEMBERFLOW_TRANSACTIONS: 'off' };
  const b = await BenchNamespace.create('notxn', d.env, d.profile.partitions, d.log);
  const alone: Measured[] = [];
  try {
    await b.produce('activity.events', input);
    for (const w of transactionsCostWorkers) {
      alone.push(await measureWorkerAlone(b, w, redis, off));
      d.progress(`${w} alone, transactions off: ${fmtRate(alone[alone.length - 1]!.throughput)}`);
    }
  } finally {
    await b.close();
  }
  const latency = await measureLatency(d, d.profile.latency.perSecond, pipelineWorkers, off);
  d.progress(`latency, transactions off: p50 ${latency.latency.p50} ms, p99 ${latency.latency.p99} ms`);
  return { alone, latency };
}

function checkAlive(procs: readonly MeasuredProcess[]): void {
  const dead = procs.find((x) => x.hasExited);
  if (dead) throw new Error(dead.failure());
}

/** Until every running worker has consumed everything, three polls in a row. */
async function settle(b: BenchNamespace, procs: readonly MeasuredProcess[], timeoutSeconds: number): Promise<number> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const names = procs.map((x) => x.name);
  let quiet = 0;
  let firstQuietAt = 0;
  while (quiet < 3) {
    checkAlive(procs);
    if (Date.now() > deadline)
      throw new Error(`the pipeline did not catch up within ${timeoutSeconds} s (lag ${await pipelineLag(b, names)})`);
    const lag = await pipelineLag(b, names);
    if (lag === 0) {
      if (quiet === 0) firstQuietAt = Date.now();
      quiet++;
    } else quiet = 0;
    await new Promise((r) => setTimeout(r, quiet > 0 ? 500 : 100));
  }
  return firstQuietAt;
}

/** All six workers from a full activity topic (generated `input`, or Online Retail when null) until all caught up. */
async function measurePipeline(
  d: BenchDeps,
  label: string,
  input: ReturnType<typeof generateActivity> | null,
): Promise<PipelineRun> {
  const b = await BenchNamespace.create(label, d.env, d.profile.partitions, d.log);
  try {
    if (input) await b.produce('activity.events', input);
    else
      await produceCommand(
        { env: { ...d.env, MEMBERFLOW_NAMESPACE: b.ns }, rules: d.rules, log: d.log },
        { file: onlineRetailFile, format: 'online-retail' },
      );
    const records = await endSum(b.admin, [b.topic('activity.events')]);
    d.progress(`${label}: ${records} activity records; all six workers start`);
    const procs = startPipeline(b);
    const behaviorGroup = consumerGroup(b.ns, 'behavior-events');
    const activity = [b.topic('activity.events')];
    let startedAt = 0;
    try {
      const joinBy = Date.now() + 180_000;
      while ((await committedSum(b.admin, behaviorGroup, activity)) === 0) {
        checkAlive(procs);
        if (Date.now() > joinBy) throw new Error('behavior-events committed nothing within 180 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      startedAt = Date.now();
      const doneAt = await settle(b, procs, 3600);
      const processes = await Promise.all(procs.map((x) => x.stop()));
      const seconds = (doneAt - startedAt) / 1000;
      return {
        inputRecords: records,
        seconds,
        perSecond: records / seconds,
        processes,
        memory: await memoryOfNamespace(b.clients.redis, b.ns),
      };
    } finally {
      await Promise.all(procs.map((x) => x.stop().catch(() => undefined)));
    }
  } finally {
    await b.close();
  }
}

async function measureLatency(
  d: BenchDeps,
  perSecond: number,
  names: readonly string[] = pipelineWorkers,
  env: Record<string, string> = {},
): Promise<LatencyRun> {
  const { seconds, warmupSeconds } = d.profile.latency;
  const b = await BenchNamespace.create('latency', d.env, d.profile.partitions, d.log);
  try {
    // Each worker serves its metrics on a port of its own: where its batch time goes is read before it stops.
    const ports = new Map(names.map((w, i) => [w, benchMetricsPortBase + i]));
    const procs = names.map((w) =>
      MeasuredProcess.worker(w, { ...b.envVars(), ...env, MEMBERFLOW_METRICS_PORT: String(ports.get(w)) }),
    );
    const started = Date.now();
    let probe: TierChangeLatency | null = null;
    try {
      // Warm-up: every worker joined and the chain to tier changes has committed work.
      await feedAtRate(
        b,
        generateActivity(perSecond * warmupSeconds, { members: d.profile.members, seed: 21 }),
        perSecond,
        new Map(),
      );
      for (const w of ['behavior-events', 'points-accrual', 'tier-evaluation'] as const) {
        const topics = workers[w]!.definition.inputs.map((t) => b.topic(t));
        while ((await committedSum(b.admin, consumerGroup(b.ns, w), topics)) === 0) {
          checkAlive(procs);
          if (Date.now() - started > 180_000) throw new Error(`${w} committed nothing within 180 s`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await settle(b, procs, 300);
      const sentAt = new Map<string, number>();
      probe = new TierChangeLatency(b, sentAt);
      await probe.start();
      const measuredFrom = Date.now();
      const fed = await feedAtRate(
        b,
        generateActivity(perSecond * seconds, { members: d.profile.members, seed: 22 }),
        perSecond,
        sentAt,
      );
      const fedAt = Date.now();
      const tierInputs = [b.topic('points.ledger')];
      const tierGroup = consumerGroup(b.ns, 'tier-evaluation');
      const behavior = [b.topic('activity.events')];
      // Drained: tier-evaluation has everything its upstream wrote, and upstream has all the input.
      for (;;) {
        checkAlive(procs);
        const upstreamDone =
          (await committedSum(b.admin, consumerGroup(b.ns, 'behavior-events'), behavior)) >=
          (await endSum(b.admin, behavior));
        const pointsDone =
          (await committedSum(b.admin, consumerGroup(b.ns, 'points-accrual'), [b.topic('behavior.events')])) >=
          (await endSum(b.admin, [b.topic('behavior.events')]));
        if (
          upstreamDone &&
          pointsDone &&
          (await committedSum(b.admin, tierGroup, tierInputs)) >= (await endSum(b.admin, tierInputs))
        )
          break;
        if (Date.now() - fedAt > 600_000) throw new Error('the pipeline did not catch up within 600 s after the feed');
        await new Promise((r) => setTimeout(r, 100));
      }
      const drainSeconds = (Date.now() - fedAt) / 1000;
      // Every tier change read (the last ones are the slowest under a backlog), then stop reading.
      await probe.readTo(await b.admin.fetchTopicOffsets(b.topic('member.tier-changes')), 60_000);
      await probe.stop();
      const wall = (Date.now() - measuredFrom) / 1000;
      const behaviorAt = await timestampsById(
        b,
        'behavior.events',
        new Set(probe.matched.map((m) => behaviorEventId(m.activityId))),
      );
      const ledgerAt = await timestampsById(b, 'points.ledger', new Set(probe.matched.map((m) => m.ledgerId)));
      const hops = hopLatencies(probe.matched, sentAt, behaviorAt, ledgerAt);
      const batches: Record<string, BatchProfile | null> = {};
      for (const [w, port] of ports) batches[w] = await scrapeBatchProfile(port);
      const stats = await Promise.all(procs.map((x) => x.stop()));
      return {
        workers: [...names],
        targetPerSecond: perSecond,
        achievedPerSecond: fed.sent / fed.seconds,
        sent: fed.sent,
        latency: summarize(probe.latencies),
        unmatched: probe.unmatched,
        drainSeconds,
        hops,
        batches,
        // CPU over the whole life of each process (warm-up included) per second of it.
        processes: stats.map((s) => ({ ...s, coresUsed: s.cpuSeconds / Math.max(s.wallSeconds, wall) })),
        memory: await memoryOfNamespace(b.clients.redis, b.ns),
      };
    } finally {
      await probe?.stop().catch(() => undefined);
      await Promise.all(procs.map((x) => x.stop().catch(() => undefined)));
    }
  } finally {
    await b.close();
  }
}

async function measureScale(d: BenchDeps, members: number, redis: Redis | Cluster): Promise<ScaleRun> {
  const b = await BenchNamespace.create(`scale${members}`, d.env, d.profile.partitions, d.log);
  try {
    const events = members;
    d.progress(`scale: generating ${events} records over ${members} members (uniform)`);
    // Events are ~45 s apart: start early enough that the last one is not in the future, or
    // behavior-events would refuse a third of a million-event stream as occurred_in_future.
    const start = Math.min(Date.UTC(2026, 0, 1), Date.now() - events * 50_000 - 86_400_000);
    await b.produce('activity.events', generateActivity(events, { members, seed: 31, skew: 1, start }));
    const be = await measureWorkerAlone(b, 'behavior-events', redis);
    const pa = await measureWorkerAlone(b, 'points-accrual', redis);
    // The other member workers too, so bytes per member are those of all five.
    const others: Record<string, Throughput> = {};
    for (const w of ['tier-evaluation', 'churn-prediction', 'reco-members']) {
      d.progress(`scale: ${w} over ${members} members`);
      others[w] = (await measureWorkerAlone(b, w, redis)).throughput;
    }
    const memory = await memoryOfNamespace(b.clients.redis, b.ns);
    return {
      members,
      events,
      states: memory.byWorker['points-accrual']?.records ?? 0,
      behaviorEvents: be.throughput,
      pointsAccrual: pa.throughput,
      others,
      memory,
    };
  } finally {
    await b.close();
  }
}
