import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { membershipError } from '../../shared/runtime/membership.js';

describe('a commit refused because this member left the group', () => {
  const protocolError = (type: string) => Object.assign(new KafkaJSProtocolError('refused'), { type });

  it('is unwrapped to the protocol error kafkajs re-joins on', () => {
    for (const type of ['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']) {
      const root = protocolError(type);
      const wrapped = new (KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error)(root, {
        cause: root,
      });
      expect(membershipError(wrapped)).toBe(root);
    }
  });

  it('leaves every other error as it was', () => {
    const root = protocolError('TOPIC_AUTHORIZATION_FAILED');
    const wrapped = new (KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error)(root, {
      cause: root,
    });
    expect(membershipError(wrapped)).toBe(wrapped);
    const plain = new Error('boom');
    expect(membershipError(plain)).toBe(plain);
    expect(membershipError(null)).toBe(null);
  });
});
