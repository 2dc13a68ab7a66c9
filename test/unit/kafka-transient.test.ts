import { describe, expect, it } from 'vitest';
import {
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
  KafkaJSNumberOfRetriesExceeded,
} from 'kafkajs';
import { isTransientClusterError, restartDelayMs } from '../../shared/kafka/transient.js';

/** kafkajs' error classes, built as kafkajs builds them (its typings omit the constructors' arguments). */
const make = (cls: unknown, ...args: unknown[]): Error => new (cls as new (...a: unknown[]) => Error)(...args);

describe('which consumer failures a worker outlives', () => {
  it('a coordinator or leader moving to another broker is transient, even where kafkajs calls it non-retriable', () => {
    expect(isTransientClusterError(make(KafkaJSGroupCoordinatorNotFound, 'Failed to find group coordinator'))).toBe(
      true,
    );
    expect(
      isTransientClusterError(make(KafkaJSNumberOfRetriesExceeded, new Error('x'), { retryCount: 8, retryTime: 1 })),
    ).toBe(true);
    const notCoordinator = Object.assign(new Error('This is not the correct coordinator for this group'), {
      type: 'NOT_COORDINATOR',
    });
    expect(isTransientClusterError(notCoordinator)).toBe(true);
    // Wrapped: kafkajs nests the broker's error as the cause.
    const wrapped = make(KafkaJSNonRetriableError, 'outer', { cause: make(KafkaJSGroupCoordinatorNotFound, 'inner') });
    expect(isTransientClusterError(wrapped)).toBe(true);
  });

  it('a programmer error or an error the broker will always give again stops the worker', () => {
    expect(isTransientClusterError(new TypeError('cannot read properties of undefined'))).toBe(false);
    expect(
      isTransientClusterError(make(KafkaJSNonRetriableError, 'Cannot subscribe to topic while consumer is running')),
    ).toBe(false);
    const authz = make(KafkaJSProtocolError, {
      message: 'Not authorized to access group',
      type: 'GROUP_AUTHORIZATION_FAILED',
      code: 30,
      retriable: false,
    });
    expect(isTransientClusterError(authz)).toBe(false);
    expect(isTransientClusterError(null)).toBe(false);
    expect(isTransientClusterError('a string')).toBe(false);
  });

  it('backs off from half a second to 30 s, with jitter around each step', () => {
    expect(restartDelayMs(1, () => 0.5)).toBe(500);
    expect(restartDelayMs(2, () => 0.5)).toBe(1000);
    expect(restartDelayMs(50, () => 0.5)).toBe(30_000);
    expect(restartDelayMs(1, () => 0)).toBe(375);
    expect(restartDelayMs(50, () => 1)).toBe(37_500);
  });
});

describe('a fenced transactional producer', () => {
  it('is recognised through kafkajs wrapping, and turned into an error kafkajs retries', async () => {
    const { isFencedProducerError, PartitionFencedError } = await import('../../shared/kafka/transactions.js');
    const protocol = Object.assign(new Error('Producer attempted an operation with an old epoch'), {
      type: 'INVALID_PRODUCER_EPOCH',
      retriable: false,
    });
    const wrapped = Object.assign(new Error('Producer attempted an operation with an old epoch'), {
      name: 'KafkaJSNonRetriableError',
      retriable: false,
      cause: protocol,
    });
    expect(isFencedProducerError(wrapped)).toBe(true);
    expect(isFencedProducerError(Object.assign(new Error('x'), { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }))).toBe(false);
    const fenced = new PartitionFencedError('t', 3, wrapped);
    expect(fenced.retriable).toBe(true);
    expect(fenced.message).toContain('t#3');
  });
});
