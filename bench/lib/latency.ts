/**
 * Latency from an activity record's append to the member.tier-changes record it caused: the
 * feeder stamps each activity record with the time it sends it; a tier change names its cause
 * (sourceEventId `pts:bhv:<activity id>:<kind>:<n>`, the ledger entry of the behavior event of
 * the activity), and its own record timestamp is when tier-evaluation sent it.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { behaviorEventId } from '../../services/behavior-events/decide.js';
import type { BenchNamespace } from './bench-namespace.js';
import { readTopicToEnd } from './replay-check.js';

const causePattern = /^pts:(?:bhv|ref):(.+):[a-z_]+:\d+$/;

/** The activity event id behind a tier change's source (a ledger entry id), or null for time-driven ones. */
export function activityIdOfLedgerEntry(sourceEventId: string): string | null {
  return causePattern.exec(sourceEventId)?.[1] ?? null;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(latencies: readonly number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Reads member.tier-changes as they come and matches each to the send time of its activity record. */
export class TierChangeLatency {
  private consumer: Consumer | null = null;
  readonly latencies: number[] = [];
  /** Per matched tier change: its cause (a ledger entry id), the activity id behind it, and when it was appended. */
  readonly matched: TierChangeSample[] = [];
  unmatched = 0;
  /** Per partition, the offset after the last record read. */
  private readonly nextOffset = new Map<number, bigint>();

  constructor(
    private readonly b: BenchNamespace,
    private readonly sentAt: ReadonlyMap<string, number>,
  ) {}

  async start(): Promise<void> {
    const consumer = this.b.clients.kafka.consumer({
      groupId: `${this.b.ns}.bench-latency-${randomUUID()}`,
      maxWaitTimeInMs: 100,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.b.topic('member.tier-changes'), fromBeginning: true });
    // Positions count transaction markers, which no message carries (shared/kafka/read-to-end.ts).
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const { partition, batchSize, lastOffset } = payload as {
        partition: number;
        batchSize: number;
        lastOffset: string | null;
      };
      if (batchSize === 0 && lastOffset !== null) this.nextOffset.set(partition, BigInt(lastOffset) + 1n);
    });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) await this.take(message.value, Number(message.timestamp));
        this.nextOffset.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
      },
    });
  }

  private async take(value: Buffer | null, appendedAt: number): Promise<void> {
    if (!value || value[0] !== 0) return;
    const change = (await this.b.clients.codec.decode(value)) as { sourceEventId?: string };
    const cause = activityIdOfLedgerEntry(change.sourceEventId ?? '');
    const sent = cause === null ? undefined : this.sentAt.get(cause);
    if (sent === undefined) {
      this.unmatched++;
      return;
    }
    this.latencies.push(appendedAt - sent);
    this.matched.push({ ledgerId: change.sourceEventId!, activityId: cause!, at: appendedAt });
  }

  /** Until every partition has been read up to these ends (fetchTopicOffsets), or the deadline. */
  async readTo(ends: ReadonlyArray<{ partition: number; high: string }>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (ends.some((e) => BigInt(e.high) > 0n && (this.nextOffset.get(e.partition) ?? 0n) < BigInt(e.high))) {
      if (Date.now() > deadline)
        throw new Error(`the latency reader did not reach the end of member.tier-changes within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    await consumer?.disconnect();
  }
}

export interface TierChangeSample {
  ledgerId: string;
  activityId: string;
  at: number;
}

/** Latency of each hop of the chain to a tier change: p50/p95/p99/max per worker. */
export interface HopLatencies {
  behaviorEvents: LatencySummary;
  pointsAccrual: LatencySummary;
  tierEvaluation: LatencySummary;
  /** Tier changes whose behavior event or ledger entry was not found (left out of the hops). */
  unmatched: number;
}

/**
 * Splits each tier change's latency into its three hops, from record timestamps (each is when
 * the worker of that hop sent the record): activity sent → behavior event (behavior-events),
 * → ledger entry (points-accrual), → tier change (tier-evaluation).
 */
export function hopLatencies(
  samples: readonly TierChangeSample[],
  sentAt: ReadonlyMap<string, number>,
  behaviorAt: ReadonlyMap<string, number>,
  ledgerAt: ReadonlyMap<string, number>,
): HopLatencies {
  const hops = { behaviorEvents: [] as number[], pointsAccrual: [] as number[], tierEvaluation: [] as number[] };
  let unmatched = 0;
  for (const s of samples) {
    const sent = sentAt.get(s.activityId);
    const behavior = behaviorAt.get(behaviorEventId(s.activityId));
    const ledger = ledgerAt.get(s.ledgerId);
    if (sent === undefined || behavior === undefined || ledger === undefined) {
      unmatched++;
      continue;
    }
    hops.behaviorEvents.push(behavior - sent);
    hops.pointsAccrual.push(ledger - behavior);
    hops.tierEvaluation.push(s.at - ledger);
  }
  return {
    behaviorEvents: summarize(hops.behaviorEvents),
    pointsAccrual: summarize(hops.pointsAccrual),
    tierEvaluation: summarize(hops.tierEvaluation),
    unmatched,
  };
}

/** Record timestamps by event id (the memberflow-event-id header), first copy per id, of a whole topic up to its current end. */
export async function timestampsById(
  b: BenchNamespace,
  logical: 'behavior.events' | 'points.ledger',
  ids: ReadonlySet<string>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of await readTopicToEnd(b, logical)) {
    if (r.id !== null && ids.has(r.id) && !out.has(r.id)) out.set(r.id, r.timestamp);
  }
  return out;
}

/**
 * Sends records at a steady rate (a request every `tickMs`), stamping each with its send time
 * and noting that time per event id. The schedule is fixed: after a slow send it sends the
 * requests it owes back to back until it is on time again.
 */
export async function feedAtRate(
  b: BenchNamespace,
  records: ReadonlyArray<{ key: string | null; value: string | Buffer | null }>,
  perSecond: number,
  sentAt: Map<string, number>,
  tickMs = 50,
): Promise<{ sent: number; seconds: number }> {
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
  const started = Date.now();
  let i = 0;
  for (let n = 0; i < records.length; n++) {
    const due = started + n * tickMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const now = Date.now();
    const chunk = records.slice(i, i + perTick);
    for (const r of chunk) {
      const id = typeof r.value === 'string' ? /"eventId":"([^"]+)"/.exec(r.value)?.[1] : undefined;
      if (id !== undefined && !sentAt.has(id)) sentAt.set(id, now);
    }
    await b.produce(
      'activity.events',
      chunk.map((r) => ({ ...r, timestamp: now })),
    );
    i += chunk.length;
  }
  return { sent: i, seconds: (Date.now() - started) / 1000 };
}
