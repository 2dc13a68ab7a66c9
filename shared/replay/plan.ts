/**
 * `replay plan`: what a shadow replay will read, where its state and outputs go, and whether
 * it is safe. The refusals are decided by a pure function of gathered facts, so every rule is
 * unit-tested without servers.
 */
import type { Admin } from 'kafkajs';
import { scanKeys, type RedisClient } from '../redis/client.js';
import { namespacePattern, workerKeysPattern } from '../redis/keys.js';
import type { Rules } from '../config/rules.js';
import { consumerGroup, physicalTopic, type LogicalTopic } from '../contracts/topics.js';
import { readLivePointer } from '../redis/live-pointer.js';
import { readReplayMeta, type ReplayMeta } from './meta.js';
import { planRanges, type PartitionRange, type StartPoint } from './positions.js';

export interface PlanFacts {
  worker: string;
  knownWorkers: readonly string[];
  liveNamespace: string;
  /** The state namespace live workers use now (the live pointer). */
  liveStateNamespace: string;
  namespace: string;
  /** Topics of the new namespace that already exist. */
  existingTopics: string[];
  /** Whether Redis holds any key of the new namespace. */
  redisKeysInUse: boolean;
  existingReplay: ReplayMeta | null;
  /** Members of the consumer group the replay would use (`<namespace>.<worker>`). */
  groupMembers: number;
  /** Members of the live group: a replay next to running live workers is fine, this is reported, not refused. */
  liveGroupMembers: number;
}

export interface Refusal {
  code:
    | 'unknown_worker'
    | 'invalid_namespace'
    | 'namespace_is_live'
    | 'namespace_in_use'
    | 'replay_exists'
    | 'group_active';
  message: string;
}

const validNamespace = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$/;

/** Why a plan must not run (empty: safe). Pure. */
export function refusalsOf(f: PlanFacts): Refusal[] {
  const out: Refusal[] = [];
  if (!f.knownWorkers.includes(f.worker))
    out.push({ code: 'unknown_worker', message: `no worker ${f.worker}; known: ${f.knownWorkers.join(', ')}` });
  if (!validNamespace.test(f.namespace))
    out.push({
      code: 'invalid_namespace',
      message: `namespace ${JSON.stringify(f.namespace)}: letters, digits, - and _ only (it prefixes topics, groups and Redis keys)`,
    });
  if (f.namespace === f.liveNamespace || f.namespace === f.liveStateNamespace) {
    out.push({
      code: 'namespace_is_live',
      message: `${f.namespace} holds the live ${f.namespace === f.liveNamespace ? 'topics' : 'state'}: a replay must write elsewhere`,
    });
  }
  if (f.existingReplay !== null) {
    out.push({
      code: 'replay_exists',
      message:
        `${f.namespace} already holds a replay of ${f.existingReplay.worker} (${f.existingReplay.status}, ` +
        `from ${f.existingReplay.from}): resume it with replay run --namespace ${f.namespace}, or remove it ` +
        `with replay discard`,
    });
  } else if (f.existingTopics.length > 0 || f.redisKeysInUse) {
    const what = [
      f.existingTopics.length > 0 ? `${f.existingTopics.length} topic(s) such as ${f.existingTopics[0]}` : '',
      f.redisKeysInUse ? 'Redis keys' : '',
    ]
      .filter(Boolean)
      .join(' and ');
    out.push({ code: 'namespace_in_use', message: `namespace ${f.namespace} is in use (${what}): choose a new one` });
  }
  if (f.groupMembers > 0)
    out.push({
      code: 'group_active',
      message: `consumer group ${f.namespace}.${f.worker} has ${f.groupMembers} live member(s): another replay is running there`,
    });
  return out;
}

export interface ReplayPlan {
  worker: string;
  liveNamespace: string;
  namespace: string;
  from: string;
  ranges: PartitionRange[];
  /** Offsets to replay: the records, plus the transaction markers where the input is one of memberflow's own (transactional) topics. */
  records: number;
  state: { redisKeys: string; group: string; liveStateNamespace: string };
  outputs: string[];
  rulesVersion: { replay: string; live: string };
  liveGroupMembers: number;
  warnings: string[];
  refusals: Refusal[];
}

export interface PlanRequest {
  worker: string;
  inputs: readonly LogicalTopic[];
  outputs: readonly LogicalTopic[];
  knownWorkers: readonly string[];
  liveNamespace: string;
  namespace: string;
  from: StartPoint;
  fromText: string;
  rules: Rules;
  liveRules: Rules;
}

export async function makePlan(admin: Admin, redis: RedisClient, r: PlanRequest): Promise<ReplayPlan> {
  const pointer = await readLivePointer(redis, r.liveNamespace, r.worker);
  const topics = await admin.listTopics();
  const facts: PlanFacts = {
    worker: r.worker,
    knownWorkers: r.knownWorkers,
    liveNamespace: r.liveNamespace,
    liveStateNamespace: pointer.namespace,
    namespace: r.namespace,
    existingTopics: topics.filter((t) => t.startsWith(`${r.namespace}.`)),
    redisKeysInUse: await anyKey(redis, namespacePattern(r.namespace)),
    existingReplay: await readReplayMeta(redis, r.namespace),
    groupMembers: await groupMembers(admin, consumerGroup(r.namespace, r.worker)),
    liveGroupMembers: await groupMembers(admin, consumerGroup(pointer.namespace, r.worker)),
  };
  const inputs = r.inputs.map((t) => physicalTopic(r.liveNamespace, t));
  const ranges = await planRanges(
    admin,
    inputs.filter((t) => topics.includes(t)),
    r.from,
  );
  const warnings: string[] = [];
  if (r.from.kind !== 'beginning')
    warnings.push(
      'the replay starts from empty state: decisions that depend on history before the start point are taken without it',
    );
  for (const t of inputs) if (!topics.includes(t)) warnings.push(`input topic ${t} does not exist`);
  if (r.rules.version === r.liveRules.version && JSON.stringify(r.rules) !== JSON.stringify(r.liveRules))
    warnings.push(
      `the replay's rules differ from the live rules but carry the same version ${r.rules.version}: events will not say which rules decided them`,
    );
  return {
    worker: r.worker,
    liveNamespace: r.liveNamespace,
    namespace: r.namespace,
    from: r.fromText,
    ranges,
    records: ranges.reduce((n, x) => n + x.records, 0),
    state: {
      redisKeys: workerKeysPattern(r.namespace, r.worker),
      group: consumerGroup(r.namespace, r.worker),
      liveStateNamespace: pointer.namespace,
    },
    outputs: r.outputs.map((t) => physicalTopic(r.namespace, t)),
    rulesVersion: { replay: r.rules.version, live: r.liveRules.version },
    liveGroupMembers: facts.liveGroupMembers,
    warnings,
    refusals: refusalsOf(facts),
  };
}

export async function groupMembers(admin: Admin, groupId: string): Promise<number> {
  const { groups } = await admin.describeGroups([groupId]);
  return groups[0]?.members.length ?? 0;
}

async function anyKey(redis: RedisClient, pattern: string): Promise<boolean> {
  for await (const _ of scanKeys(redis, pattern)) return true;
  return false;
}

/** The plan as people read it. */
export function formatPlan(p: ReplayPlan): string {
  const lines: string[] = [];
  lines.push(`replay of ${p.worker} from ${p.from} into namespace ${p.namespace}`);
  lines.push(`reads (live topics of ${p.liveNamespace}), up to the high watermark now:`);
  lines.push('  topic                                     partition        start          end    records');
  for (const r of p.ranges)
    lines.push(
      `  ${r.topic.padEnd(40)} ${String(r.partition).padStart(10)} ${r.start.padStart(12)} ${r.end.padStart(12)} ${String(r.records).padStart(10)}`,
    );
  lines.push(`  total records: ${p.records} (offsets: transaction markers on memberflow's own topics count too)`);
  lines.push(
    `state:   Redis ${p.state.redisKeys}, consumer group ${p.state.group} (live state stays in ${p.state.liveStateNamespace})`,
  );
  lines.push(`outputs: ${p.outputs.join(', ')} (never the live topics)`);
  lines.push(`rules:   ${p.rulesVersion.replay} (live: ${p.rulesVersion.live})`);
  lines.push(`live workers running in the live group: ${p.liveGroupMembers}`);
  for (const w of p.warnings) lines.push(`warning: ${w}`);
  if (p.refusals.length === 0) lines.push('safe to run: memberflow replay run with the same options');
  for (const r of p.refusals) lines.push(`refused (${r.code}): ${r.message}`);
  return `${lines.join('\n')}\n`;
}
