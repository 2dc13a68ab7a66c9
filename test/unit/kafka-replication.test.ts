import { describe, expect, it } from 'vitest';
import { replicationFor } from '../../shared/kafka/client.js';

describe('replication of new topics', () => {
  it('keeps one copy on a single broker and never asks more in-sync replicas than copies', () => {
    expect(replicationFor(1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(replicationFor(2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
  });

  it('keeps three copies, two acknowledging each write, from three brokers on', () => {
    expect(replicationFor(3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(replicationFor(7)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
  });
});
