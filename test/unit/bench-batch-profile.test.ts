import { describe, expect, it } from 'vitest';
import { batchProfileOf, seriesSum } from '../../bench/lib/batch-profile.js';

const exposition = `# HELP memberflow_batch_duration_seconds Batch time.
# TYPE memberflow_batch_duration_seconds histogram
memberflow_batch_duration_seconds_bucket{le="0.1",worker="points-accrual"} 3
memberflow_batch_duration_seconds_sum{worker="points-accrual"} 0.3
memberflow_batch_duration_seconds_count{worker="points-accrual"} 4
memberflow_batch_records_sum{worker="points-accrual"} 40
memberflow_batch_records_count{worker="points-accrual"} 4
memberflow_redis_script_duration_seconds_sum{worker="points-accrual"} 0.02
memberflow_redis_script_duration_seconds_count{worker="points-accrual"} 5
memberflow_transaction_commit_duration_seconds_sum{worker="points-accrual"} 0.1
memberflow_transaction_commit_duration_seconds_count{worker="points-accrual"} 4
memberflow_consumer_restarts_total{worker="points-accrual"} 1
memberflow_consumer_restarts_total_extra 99
`;

describe("the bench's batch profile from a worker's metrics", () => {
  it('sums every label set of a series and no other series sharing its prefix', () => {
    expect(seriesSum(exposition, 'memberflow_consumer_restarts_total')).toBe(1);
    expect(seriesSum(exposition, 'memberflow_batch_records_sum')).toBe(40);
    expect(seriesSum(exposition, 'memberflow_absent_total')).toBe(0);
  });

  it('gives means per batch in milliseconds', () => {
    const p = batchProfileOf(exposition);
    expect(p.batches).toBe(4);
    expect(p.recordsPerBatch).toBe(10);
    expect(p.batchMs).toBeCloseTo(75);
    expect(p.redisMs).toBeCloseTo(5);
    expect(p.commitMs).toBeCloseTo(25);
    expect(p.consumerRestarts).toBe(1);
  });
});
