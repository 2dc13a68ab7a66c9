import type { Rules } from '../config/rules.js';
import type { DecideContext, InputRecord } from './types.js';

/** What a decision may read: rules, the carrying record's time and position, the batch's view. */
export function decideContext<V>(rules: Rules, record: InputRecord, view: V | undefined): DecideContext<V> {
  const ctx: DecideContext<V> = {
    rules,
    record: {
      timestamp: record.timestamp,
      sizeBytes: record.value?.length ?? 0,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
    },
  };
  if (view !== undefined) ctx.view = view;
  return ctx;
}
