/**
 * Where a worker's batch time goes, from the worker's own Prometheus metrics (MEMBERFLOW_METRICS_PORT):
 * batches, records per batch, and the mean of the batch's whole time, its Redis scripts and its commit
 * (the transaction's offsets and EndTxn, or the offset commit without transactions).
 */
export interface BatchProfile {
  batches: number;
  recordsPerBatch: number;
  batchMs: number;
  redisMs: number;
  commitMs: number;
  /** Consumer restarts: a failed batch restarts the consumer, which a latency run must not hide. */
  consumerRestarts: number;
}

/** The first of the ports the bench gives its workers' metrics servers, one per worker in order. */
export const benchMetricsPortBase = Number(process.env.MEMBERFLOW_BENCH_METRICS_PORT ?? 9590);

/** Sum of every series of `name` (all label sets) in a Prometheus text exposition. */
export function seriesSum(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export function batchProfileOf(text: string): BatchProfile {
  const mean = (histogram: string, scale: number) => {
    const count = seriesSum(text, `${histogram}_count`);
    return count === 0 ? 0 : (seriesSum(text, `${histogram}_sum`) / count) * scale;
  };
  const batches = seriesSum(text, 'memberflow_batch_duration_seconds_count');
  return {
    batches,
    recordsPerBatch: mean('memberflow_batch_records', 1),
    batchMs: mean('memberflow_batch_duration_seconds', 1000),
    // Per batch, though a batch may run several scripts (a fenced retry runs one again).
    redisMs: batches === 0 ? 0 : (seriesSum(text, 'memberflow_redis_script_duration_seconds_sum') * 1000) / batches,
    commitMs: mean('memberflow_transaction_commit_duration_seconds', 1000),
    consumerRestarts: seriesSum(text, 'memberflow_consumer_restarts_total'),
  };
}

/** Reads a worker's metrics; a worker that does not answer yields null rather than failing the bench. */
export async function scrapeBatchProfile(port: number): Promise<BatchProfile | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
    return res.ok ? batchProfileOf(await res.text()) : null;
  } catch {
    return null;
  }
}
