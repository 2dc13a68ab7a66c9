/**
 * Progress from the outside: a consumer group's committed offsets, polled, to know when a
 * process has consumed its input (or its time is up). The rate reported is the process's own
 * (first batch start to last batch end, see processes.ts); the polled one is the fallback.
 */
import type { Admin } from 'kafkajs';

export interface Throughput {
  records: number;
  seconds: number;
  perSecond: number;
}

export async function committedSum(admin: Admin, groupId: string, topics: readonly string[]): Promise<number> {
  let sum = 0;
  for (const t of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
    for (const p of t.partitions) sum += Math.max(0, Number(p.offset));
  }
  return sum;
}

export async function endSum(admin: Admin, topics: readonly string[]): Promise<number> {
  let sum = 0;
  for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) sum += Number(p.high);
  return sum;
}

/**
 * Polls the group until it has committed `target` records (offset sum) or `maxSeconds` passed
 * since its first commit; `alive` is checked on every poll so a crash fails the run at once.
 */
export async function measureGroup(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
  opts: { target: number; maxSeconds?: number; timeoutSeconds?: number; alive?: () => void; pollMs?: number },
): Promise<Throughput> {
  const poll = opts.pollMs ?? 100;
  const started = Date.now();
  let first: { at: number; committed: number } | null = null;
  let last: { at: number; committed: number } | null = null;
  for (;;) {
    opts.alive?.();
    const committed = await committedSum(admin, groupId, topics);
    const at = Date.now();
    if (committed > 0) {
      first ??= { at, committed };
      if (!last || committed > last.committed) last = { at, committed };
    }
    if (committed >= opts.target) break;
    if (first && opts.maxSeconds !== undefined && at - first.at >= opts.maxSeconds * 1000) break;
    if (at - started > (opts.timeoutSeconds ?? 900) * 1000)
      throw new Error(
        `${groupId}: ${committed} of ${opts.target} records committed after ${opts.timeoutSeconds ?? 900} s`,
      );
    await new Promise((r) => setTimeout(r, poll));
  }
  if (!first || !last) throw new Error(`${groupId}: committed nothing`);
  // A process faster than the polls finishes between two of them: its own totals give its rate.
  const records = last.committed - first.committed;
  const seconds = (last.at - first.at) / 1000;
  return { records, seconds, perSecond: seconds > 0 ? records / seconds : Number.NaN };
}
