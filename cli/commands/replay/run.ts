/**
 * `replay run`: a worker as a shadow. Its own consumer group and Redis namespace, reading the
 * live inputs from the planned start up to the high watermarks captured at planning (or on,
 * with `follow`), writing outputs to the namespace's own topics. Resumable: the plan is kept
 * in Redis, offsets are committed per batch, and a second `replay run` continues.
 */
import { ensureTopics } from '../../../shared/kafka/client.js';
import { consumerGroup, topicSpecs } from '../../../shared/contracts/topics.js';
import { runWorker } from '../../../shared/runtime/run-worker.js';
import { compareOffsets } from '../../../shared/kernel/offsets.js';
import { parseRules } from '../../../shared/config/rules.js';
import { registryAccessOf } from '../../../shared/clients.js';
import { AvroCodec } from '../../../shared/registry/codec.js';
import { readReplayMeta, writeReplayMeta, type ReplayMeta } from '../../../shared/replay/meta.js';
import { makePlan, groupMembers, type ReplayPlan } from '../../../shared/replay/plan.js';
import { parseStartPoint, rangeKey, type PartitionRange } from '../../../shared/replay/positions.js';
import { workerNames } from '../../../services/index.js';
import { workerSettings } from '../../context.js';
import { ReplayRefused, rulesFrom, workerEntry, type ReplayContext } from './shared.js';

export interface PlanOptions {
  worker: string;
  namespace: string;
  from: string;
  rulesFile?: string;
}

export async function replayPlan(rc: ReplayContext, o: PlanOptions): Promise<ReplayPlan> {
  const entry = workerEntry(o.worker);
  return makePlan(rc.admin, rc.clients.redis, {
    worker: o.worker,
    inputs: entry.definition.inputs,
    outputs: entry.definition.outputs,
    knownWorkers: workerNames(),
    liveNamespace: rc.liveNamespace,
    namespace: o.namespace,
    from: parseStartPoint(o.from),
    fromText: o.from,
    rules: rulesFrom(o.rulesFile, rc.ctx.rules),
    liveRules: rc.ctx.rules,
  });
}

export interface RunOptions {
  namespace: string;
  /** For a new replay; ignored when resuming one. */
  worker?: string;
  from?: string;
  rulesFile?: string;
  follow?: boolean;
  /** Progress lines (per-partition lag and throughput). */
  progress?: (line: string) => void;
  progressEveryMs?: number;
  /** Resolves to stop early (e.g. Ctrl-C); the replay can be resumed. */
  stop?: Promise<void>;
}

export interface RunReport {
  namespace: string;
  worker: string;
  resumed: boolean;
  records: number;
  outputs: number;
  seconds: number;
  recordsPerSecond: number;
  completed: boolean;
  remaining: number;
}

export async function replayRun(rc: ReplayContext, o: RunOptions): Promise<RunReport> {
  let meta = await readReplayMeta(rc.clients.redis, o.namespace);
  const resumed = meta !== null;
  if (meta === null) {
    if (!o.worker || !o.from)
      throw new ReplayRefused(`no replay in ${o.namespace} yet: give --worker and --from to start one`);
    const plan = await replayPlan(rc, {
      worker: o.worker,
      namespace: o.namespace,
      from: o.from,
      ...(o.rulesFile ? { rulesFile: o.rulesFile } : {}),
    });
    if (plan.refusals.length > 0)
      throw new ReplayRefused(plan.refusals.map((r) => `refused (${r.code}): ${r.message}`).join('\n'));
    const rules = rulesFrom(o.rulesFile, rc.ctx.rules);
    meta = {
      worker: o.worker,
      liveNamespace: rc.liveNamespace,
      namespace: o.namespace,
      from: o.from,
      ranges: plan.ranges,
      follow: Boolean(o.follow),
      rules: JSON.stringify(rules),
      rulesVersion: rules.version,
      createdAt: Date.now(),
      status: 'running',
    };
    await ensureTopics(rc.admin, o.namespace, rc.ctx.env.MEMBERFLOW_TOPIC_PARTITIONS, topicSpecs);
    await setStartOffsets(rc, consumerGroup(o.namespace, o.worker), plan.ranges);
    await writeReplayMeta(rc.clients.redis, meta);
  } else {
    if (meta.status === 'promoted') throw new ReplayRefused(`${o.namespace} was promoted: it is live state now`);
    if (meta.liveNamespace !== rc.liveNamespace)
      throw new ReplayRefused(`${o.namespace} replays ${meta.liveNamespace}, not ${rc.liveNamespace}`);
    const members = await groupMembers(rc.admin, consumerGroup(o.namespace, meta.worker));
    if (members > 0)
      throw new ReplayRefused(
        `consumer group ${o.namespace}.${meta.worker} has ${members} live member(s): the replay is already running`,
      );
  }
  return runShadow(rc, meta, { ...o, resumed });
}

/** A new group starts exactly at the plan's start offsets. */
async function setStartOffsets(rc: ReplayContext, groupId: string, ranges: readonly PartitionRange[]): Promise<void> {
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const r of ranges)
    byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), { partition: r.partition, offset: r.start }]);
  for (const [topic, partitions] of byTopic) await rc.admin.setOffsets({ groupId, topic, partitions });
}

/** Runs the replay's worker up to its ends (or until stopped); also what promote uses to catch up to the live position. */
export async function runShadow(
  rc: ReplayContext,
  meta: ReplayMeta,
  o: {
    follow?: boolean;
    progress?: (line: string) => void;
    progressEveryMs?: number;
    stop?: Promise<void>;
    resumed?: boolean;
    ends?: ReadonlyMap<string, string>;
  },
): Promise<RunReport> {
  const entry = workerEntry(meta.worker);
  const rules = parseRules(JSON.parse(meta.rules), `replay ${meta.namespace}`);
  const codec = new AvroCodec(registryAccessOf(rc.ctx.env), meta.namespace);
  await codec.registerAll();
  const follow = o.follow ?? meta.follow;
  const ends = o.ends ?? new Map(meta.ranges.map((r) => [rangeKey(r.topic, r.partition), r.end]));
  const positions = new Map(meta.ranges.map((r) => [rangeKey(r.topic, r.partition), r.start]));
  const group = consumerGroup(meta.namespace, meta.worker);
  for (const t of await rc.admin.fetchOffsets({
    groupId: group,
    topics: [...new Set(meta.ranges.map((r) => r.topic))],
  })) {
    for (const p of t.partitions)
      if (compareOffsets(p.offset, '0') >= 0) positions.set(rangeKey(t.topic, p.partition), p.offset);
  }
  const started = Date.now();
  const w = await runWorker({
    worker: entry.definition,
    decoder: entry.decoder(codec, () => rules),
    kafka: rc.clients.kafka,
    redis: rc.clients.redis,
    codec,
    namespace: meta.namespace,
    inputNamespace: meta.liveNamespace,
    ...(follow ? {} : { stopAt: ends }),
    rules,
    log: rc.ctx.log,
    sessionTimeoutMs: rc.ctx.env.KAFKA_SESSION_TIMEOUT_MS,
    maxBytesPerPartition: rc.ctx.env.KAFKA_MAX_BYTES_PER_PARTITION,
    ...workerSettings(rc.ctx.env),
    onBatch: (_report, partition, topic, next) => positions.set(rangeKey(topic, partition), next),
  });
  const remaining = (): number =>
    [...ends].reduce((n, [k, end]) => n + Math.max(0, Number(BigInt(end) - BigInt(positions.get(k) ?? '0'))), 0);
  const timer = o.progress
    ? setInterval(
        () => o.progress!(progressLine(meta, positions, ends, w.totals.records, started)),
        o.progressEveryMs ?? 1000,
      )
    : null;
  try {
    await Promise.race([
      follow ? new Promise<void>(() => undefined) : w.reachedEnd,
      o.stop ?? new Promise<void>(() => undefined),
      w.failed.then((e) => Promise.reject(e)),
    ]);
  } finally {
    if (timer) clearInterval(timer);
    await w.stop();
  }
  const left = follow ? 0 : remaining();
  const completed = !follow && left === 0;
  if (completed && !o.ends) await writeReplayMeta(rc.clients.redis, { ...meta, status: 'done' });
  o.progress?.(progressLine(meta, positions, ends, w.totals.records, started));
  const seconds = (Date.now() - started) / 1000;
  return {
    namespace: meta.namespace,
    worker: meta.worker,
    resumed: Boolean(o.resumed),
    records: w.totals.records,
    outputs: w.totals.outputs,
    seconds,
    recordsPerSecond: Math.round(w.totals.records / Math.max(seconds, 0.001)),
    completed,
    remaining: left,
  };
}

function progressLine(
  meta: ReplayMeta,
  positions: ReadonlyMap<string, string>,
  ends: ReadonlyMap<string, string>,
  records: number,
  started: number,
): string {
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  const parts = [...ends].map(([k, end]) => {
    const lag = Math.max(0, Number(BigInt(end) - BigInt(positions.get(k) ?? '0')));
    return `${k.slice(k.lastIndexOf('.') + 1)} lag ${lag}`;
  });
  const total = meta.ranges.reduce((n, r) => n + r.records, 0);
  const pct = total === 0 ? 100 : Math.min(100, (100 * records) / total);
  return `[${meta.worker} → ${meta.namespace}] ${pct.toFixed(1)}% ${records}/${total} records, ${Math.round(records / seconds)}/s | ${parts.join(' | ')}`;
}
