import type { Rules } from '../config/rules.js';
import { deadLetter } from './dead-letter.js';
import { emptyRecord, stepMember, type MemberRecord, type StepLimits } from './member-record.js';
import type { Decoded, InputRecord, OutputEvent, WorkerLogic } from './types.js';

export interface ReferenceResult<S> {
  states: Map<string, S>;
  outputs: OutputEvent[];
}

/**
 * Runs a worker's pure logic over a whole log, in order, with no Redis and no
 * Kafka. It is the oracle the fault tests compare the real runtime against.
 */
export function referenceRun<S, E>(
  logic: WorkerLogic<S, E>,
  log: ReadonlyArray<{ record: InputRecord; decoded: Decoded<E> }>,
  rules: Rules,
  limits: StepLimits,
): ReferenceResult<S> {
  const records = new Map<string, MemberRecord<S>>();
  const outputs: OutputEvent[] = [];
  for (const { record, decoded } of log) {
    if (decoded.kind === 'rejected') {
      outputs.push(deadLetter(logic.name, record, decoded.rejection, decoded));
      continue;
    }
    const current = records.get(decoded.memberId) ?? emptyRecord<S>();
    const ctx = { rules, record: { timestamp: record.timestamp, sizeBytes: record.value?.length ?? 0 } };
    const step = stepMember(logic, current, { record, ...decoded }, ctx, limits);
    records.set(decoded.memberId, step.record);
    outputs.push(...step.outputs);
  }
  const states = new Map<string, S>();
  for (const [member, rec] of records) if (rec.state !== null) states.set(member, rec.state);
  return { states, outputs };
}
