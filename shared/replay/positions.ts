/**
 * Where a replay starts and ends in each input partition. `--from` is `beginning`, an ISO
 * time (the first record at or after it, by record timestamp), or explicit offsets
 * `<partition>:<offset>[,…]` (applied to every input topic) or `<topic>#<partition>:<offset>[,…]`.
 * The end is the high watermark captured when the plan is made.
 */
import type { Admin } from 'kafkajs';
import { ConfigError } from '../config/env.js';
import { compareOffsets } from '../kernel/offsets.js';

export interface PartitionRange {
  topic: string;
  partition: number;
  /** First offset to read. */
  start: string;
  /** Offset after the last one to read (the high watermark at planning time). */
  end: string;
  records: number;
}

export type StartPoint =
  | { kind: 'beginning' }
  | { kind: 'time'; at: number; text: string }
  | { kind: 'offsets'; offsets: Array<{ topic: string | null; partition: number; offset: string }> };

export class StartPointError extends ConfigError {
  override name = 'StartPointError';
}

/** Parses `--from` (pure). */
export function parseStartPoint(text: string): StartPoint {
  const t = text.trim();
  if (t === 'beginning') return { kind: 'beginning' };
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const at = Date.parse(t);
    // Date.parse rolls 2024-02-30 over to March: refuse a day the calendar does not have.
    if (Number.isNaN(at) || new Date(Date.parse(t.slice(0, 10))).toISOString().slice(0, 10) !== t.slice(0, 10))
      throw new StartPointError(`--from ${t}: not a valid ISO time`);
    return { kind: 'time', at, text: t };
  }
  const parts = t
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const offsets = parts.map((p) => {
    const m = /^(?:(.+)#)?(\d+):(\d+)$/.exec(p);
    if (!m)
      throw new StartPointError(
        `--from ${t}: expected beginning, an ISO time, or offsets like 0:1200,1:900 (optionally topic#0:1200)`,
      );
    return { topic: m[1] ?? null, partition: Number(m[2]), offset: m[3]! };
  });
  if (offsets.length === 0) throw new StartPointError('--from is empty');
  return { kind: 'offsets', offsets };
}

/** The ranges to read: per input topic and partition, from the start point to the current high watermark. */
export async function planRanges(admin: Admin, topics: readonly string[], from: StartPoint): Promise<PartitionRange[]> {
  const out: PartitionRange[] = [];
  for (const topic of topics) {
    const marks = await admin.fetchTopicOffsets(topic);
    const byTime = from.kind === 'time' ? await admin.fetchTopicOffsetsByTimestamp(topic, from.at) : [];
    for (const m of [...marks].sort((a, b) => a.partition - b.partition)) {
      let start = m.low;
      if (from.kind === 'time') {
        const found = byTime.find((x) => x.partition === m.partition)?.offset;
        start = found === undefined || compareOffsets(found, '0') < 0 ? m.high : found;
      } else if (from.kind === 'offsets') {
        const given = from.offsets.find((o) => o.partition === m.partition && (o.topic === null || o.topic === topic));
        if (given === undefined) start = m.high;
        else {
          if (compareOffsets(given.offset, m.low) < 0)
            throw new StartPointError(
              `${topic} partition ${m.partition}: offset ${given.offset} is below the oldest retained offset ${m.low}`,
            );
          start = compareOffsets(given.offset, m.high) > 0 ? m.high : given.offset;
        }
      }
      out.push({ topic, partition: m.partition, start, end: m.high, records: Number(BigInt(m.high) - BigInt(start)) });
    }
  }
  return out;
}

export function rangeKey(topic: string, partition: number): string {
  return `${topic}#${partition}`;
}
