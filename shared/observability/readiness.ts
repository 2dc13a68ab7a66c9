/**
 * Whether a worker process is ready, decided from what it last saw (pure: no clock, no I/O; the
 * watcher in watch.ts gathers the facts). Reasons name the check, never a value worth hiding.
 */

/** One input partition this process is assigned, as last observed. */
export interface PartitionProgress {
  topic: string;
  partition: number;
  /** Records between the group's committed position and the partition's end. */
  lag: number;
  /** When the committed position last moved, or when the partition was first seen (epoch ms). */
  lastProgressAt: number;
}

export interface WorkerHealthFacts {
  worker: string;
  /** The consumer is in its group with an assignment (possibly empty: more instances than partitions). */
  joined: boolean;
  /** The consumer failed and is restarting (a broker outage), or stopped. */
  consumerFailing: boolean;
  partitions: readonly PartitionProgress[];
}

export interface HealthFacts {
  now: number;
  stallMs: number;
  workers: readonly WorkerHealthFacts[];
  /** Results of the latest dependency checks: true when it answered. */
  kafka: boolean;
  redis: boolean;
  registry: boolean;
}

export interface Readiness {
  ready: boolean;
  reasons: string[];
}

export function readiness(f: HealthFacts): Readiness {
  const reasons: string[] = [];
  if (!f.kafka) reasons.push('kafka: not reachable');
  if (!f.redis) reasons.push('redis: not reachable');
  if (!f.registry) reasons.push('schema registry: not reachable');
  for (const w of f.workers) {
    if (!w.joined) reasons.push(`${w.worker}: not in its consumer group`);
    if (w.consumerFailing) reasons.push(`${w.worker}: consumer failing, restarting`);
    for (const p of w.partitions) {
      if (p.lag > 0 && f.now - p.lastProgressAt >= f.stallMs) {
        reasons.push(
          `${w.worker}: ${p.topic}[${p.partition}] stalled: lag ${p.lag} and no progress for ${Math.round((f.now - p.lastProgressAt) / 1000)} s`,
        );
      }
    }
  }
  return { ready: reasons.length === 0, reasons };
}

/**
 * The next progress record of a partition: the time moves when the committed position moved or
 * the partition has nothing to do (lag 0 is never a stall, and a partition that catches up starts
 * its clock again).
 */
export function nextProgress(
  previous: { position: string; lastProgressAt: number } | undefined,
  position: string,
  lag: number,
  now: number,
): { position: string; lastProgressAt: number } {
  if (previous === undefined || previous.position !== position || lag === 0) return { position, lastProgressAt: now };
  return previous;
}
