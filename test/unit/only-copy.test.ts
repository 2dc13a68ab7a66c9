import { describe, expect, it } from 'vitest';
import { isOnlyCopy, logicalTopics } from '../../shared/contracts/topics.js';

describe('only copies: which records the kernel keeps no fingerprint of', () => {
  it('is a memberflow topic read from a committed transaction, never an upstream topic', () => {
    expect(isOnlyCopy('behavior.events', true)).toBe(true);
    expect(isOnlyCopy('points.ledger', true)).toBe(true);
    expect(isOnlyCopy('behavior.events', false)).toBe(false);
    expect(isOnlyCopy('activity.events', true)).toBe(false);
    expect(isOnlyCopy(undefined, true)).toBe(false);
    const internal = logicalTopics.filter((t) => isOnlyCopy(t, true));
    expect(internal).not.toContain('activity.events');
    expect(internal).toHaveLength(logicalTopics.length - 1);
  });
});
