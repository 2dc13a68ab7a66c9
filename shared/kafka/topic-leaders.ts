import type { Admin } from 'kafkajs';
import { hasBrokerErrorType, isTransientClusterError } from './transient.js';

/** What a broker answers about a topic created a moment ago whose record has not reached it yet. */
const notYetVisible = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

export interface TopicLeaderWait {
  timeoutMs?: number;
  intervalMs?: number;
  /** For tests: the clock and the pause between tries. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

type MetadataSource = Pick<Admin, 'fetchTopicMetadata'>;

/**
 * Waits until every partition of these new topics has a leader. kafkajs' own wait (createTopics'
 * `waitForLeaders`) gives up on UNKNOWN_TOPIC_OR_PARTITION, which a broker answers while the
 * controller's record of a just-created topic has not reached it yet: on a busy machine that takes
 * a moment, and the creation itself had succeeded.
 */
export async function waitForTopicLeaders(
  admin: MetadataSource,
  topics: readonly string[],
  opts: TopicLeaderWait = {},
): Promise<void> {
  if (topics.length === 0) return;
  const now = opts.now ?? Date.now;
  const pause = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = now() + timeoutMs;
  let waitingFor = 'metadata';
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [...topics] });
      const leaderless = topics.find((name) => {
        const topic = meta.topics.find((t) => t.name === name);
        return !topic || topic.partitions.length === 0 || topic.partitions.some((p) => p.leader < 0);
      });
      if (leaderless === undefined) return;
      waitingFor = `a leader for every partition of ${leaderless}`;
    } catch (err) {
      if (!hasBrokerErrorType(err, notYetVisible) && !isTransientClusterError(err)) throw err;
    }
    if (now() >= deadline) throw new Error(`new topics: no ${waitingFor} after ${timeoutMs} ms (${topics.join(', ')})`);
    await pause(opts.intervalMs ?? 100);
  }
}
