import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// kafkajs' own read_committed filter, as installed (scripts/patch-kafkajs.mjs fixes it after npm ci).
const require = createRequire(import.meta.url);
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages.js') as (f: {
  messages: Array<{
    offset: string;
    key: Buffer | null;
    value: string;
    batchContext: { producerId: string; inTransaction: boolean };
    isControlRecord?: boolean;
  }>;
  abortedTransactions: Array<{ producerId: string; firstOffset: string }>;
}) => Array<{ offset: string; value: string }>;

const record = (offset: number, producerId: string, value: string) => ({
  offset: String(offset),
  key: null,
  value,
  batchContext: { producerId, inTransaction: true },
});
const abortMarker = (offset: number, producerId: string) => ({
  offset: String(offset),
  key: Buffer.from([0, 0, 0, 0]),
  value: '',
  isControlRecord: true,
  batchContext: { producerId, inTransaction: true },
});

describe('kafkajs read_committed filter (patched)', () => {
  it('drops the records of every aborted transaction a fetch starts inside, not only the first', () => {
    // Two producers each opened a transaction before offset 10 (where this fetch starts); both were aborted.
    const kept = filterAbortedMessages({
      messages: [
        record(10, 'a', 'a1'),
        record(11, 'b', 'b1'),
        record(12, 'c', 'committed'),
        abortMarker(13, 'a'),
        abortMarker(14, 'b'),
        record(15, 'b', 'b-next'),
      ],
      abortedTransactions: [
        { producerId: 'b', firstOffset: '8' },
        { producerId: 'a', firstOffset: '5' },
      ],
    });
    expect(kept.filter((m) => m.value !== '').map((m) => m.value)).toEqual(['committed', 'b-next']);
  });

  it('keeps committed records of a producer whose earlier transaction was aborted', () => {
    const kept = filterAbortedMessages({
      messages: [record(0, 'p', 'aborted'), abortMarker(1, 'p'), record(2, 'p', 'committed')],
      abortedTransactions: [{ producerId: 'p', firstOffset: '0' }],
    });
    expect(kept.filter((m) => m.value !== '').map((m) => m.value)).toEqual(['committed']);
  });
});
