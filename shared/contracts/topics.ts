/**
 * The topic catalogue: logical names, their Avro schema files and their
 * settings. Physical names carry the namespace prefix so that tests, demos and
 * backfills never share a topic.
 */
export const logicalTopics = [
  'activity.events',
  'activity.dlq',
  'behavior.events',
  'points.ledger',
  'member.tier-changes',
  'member.tiers',
  'member.churn-risk',
  'member.recommendations',
  'reco.item-updates',
  'activity.dlq-reprocessed',
] as const;

export type LogicalTopic = (typeof logicalTopics)[number];

/** Topics other systems write: upstream apps (activity.events) and engineers' tools may send an event id twice. */
export const externallyWrittenTopics: readonly LogicalTopic[] = ['activity.events'];

/**
 * Whether a record read with read_committed is the only copy of its event id: memberflow wrote
 * it in a committed transaction (its outputs and its input offsets commit together, so a
 * re-published output replaces an aborted copy, never adds one). Upstream topics never qualify.
 */
export function isOnlyCopy(logical: LogicalTopic | undefined, inTransaction: boolean): boolean {
  return inTransaction && writtenByMemberflow(logical);
}

/** A topic only memberflow's workers write (ACLs keep everyone else out): its forwarded ticks are trusted. */
export function writtenByMemberflow(logical: LogicalTopic | undefined): boolean {
  return logical !== undefined && !externallyWrittenTopics.includes(logical);
}

export interface TopicSpec {
  logical: LogicalTopic;
  /** Kafka topic-level configs. Retention is unlimited where replay must rebuild state. */
  config: Record<string, string>;
  purpose: string;
}

/** Settings ensureTopics also brings existing topics to (the others apply to new topics only). */
export const enforcedOnExisting: readonly string[] = ['message.timestamp.type'];

const keepForever = { 'retention.ms': '-1', 'retention.bytes': '-1' };
const thirtyDays = { 'retention.ms': String(30 * 24 * 3600 * 1000) };

export const topicSpecs: readonly TopicSpec[] = [
  // LogAppendTime: the record timestamp is the broker's clock, which bounds ticks and future events (no producer sets it).
  {
    logical: 'activity.events',
    config: { ...keepForever, 'message.timestamp.type': 'LogAppendTime' },
    purpose: 'input: what members did (Avro or JSON)',
  },
  { logical: 'activity.dlq', config: thirtyDays, purpose: 'refused input records with reason and original bytes' },
  { logical: 'behavior.events', config: keepForever, purpose: 'validated, deduplicated activity with profile' },
  { logical: 'points.ledger', config: keepForever, purpose: 'every points movement' },
  { logical: 'member.tier-changes', config: keepForever, purpose: 'tier decisions' },
  { logical: 'member.tiers', config: { 'cleanup.policy': 'compact' }, purpose: 'latest tier per member (compacted)' },
  {
    logical: 'member.churn-risk',
    config: keepForever,
    purpose: 'churn risk band changes (an input of reco-members: kept for rebuilds)',
  },
  { logical: 'member.recommendations', config: thirtyDays, purpose: 'recommendations' },
  {
    logical: 'activity.dlq-reprocessed',
    config: { 'cleanup.policy': 'compact' },
    purpose: 'dead letters already sent back by dlq reprocess (compacted, by dead-letter id)',
  },
  {
    logical: 'reco.item-updates',
    config: keepForever,
    purpose: 'internal: co-occurrence updates keyed by item (reco-members → reco-items)',
  },
];

export function physicalTopic(namespace: string, logical: LogicalTopic): string {
  return `${namespace}.${logical}`;
}

export function logicalFromPhysical(namespace: string, physical: string): LogicalTopic | undefined {
  const prefix = `${namespace}.`;
  if (!physical.startsWith(prefix)) return undefined;
  const rest = physical.slice(prefix.length);
  return (logicalTopics as readonly string[]).includes(rest) ? (rest as LogicalTopic) : undefined;
}

export function consumerGroup(namespace: string, worker: string): string {
  return `${namespace}.${worker}`;
}
