import type { Rules } from '../config/rules.js';
import { decideContext } from './decide-context.js';
import { deadLetter } from './dead-letter.js';
import type { LogicalTopic } from '../contracts/topics.js';
import { dueMembers, emptyRecord, stepMember, stepTick, type MemberRecord, type StepLimits } from './member-record.js';
import { topicPartitionId } from './offsets.js';
import { forwardedTick, tickId } from './ticks.js';
import type { Decoded, InputRecord, OutputEvent, WorkerLogic } from './types.js';

export interface ReferenceResult<S> {
  states: Map<string, S>;
  outputs: OutputEvent[];
}

/**
 * Runs a worker's pure logic over a whole log, in order, with no Redis and no
 * Kafka. It is the oracle the fault tests compare the real runtime against.
 */
export function referenceRun<S, E, V = unknown>(
  logic: WorkerLogic<S, E, V>,
  /** Tick records (record.tick set) may carry any `decoded`: it is not read. */
  log: ReadonlyArray<{ record: InputRecord; decoded: Decoded<E> }>,
  rules: Rules,
  limits: StepLimits,
  options: {
    forwardTicksTo?: LogicalTopic;
    /** The view `decide` sees for each event (a worker with a view): from the reference's own model. */
    view?: (event: E, record: InputRecord) => V;
    /** Called after each applied input, e.g. to feed the outputs to a downstream reference model. */
    afterStep?: (outputs: readonly OutputEvent[], record: InputRecord) => void;
  } = {},
): ReferenceResult<S> {
  const records = new Map<string, MemberRecord<S>>();
  const membersOfPartition = new Map<string, Set<string>>();
  const outputs: OutputEvent[] = [];
  for (const { record, decoded } of log) {
    const tp = topicPartitionId(record.topic, record.partition);
    if (record.tick !== undefined) {
      const candidates = [...(membersOfPartition.get(tp) ?? [])].map(
        (id) => [id, records.get(id)] as [string, MemberRecord<S> | undefined],
      );
      const tick = { rules, time: record.tick, tickId: tickId(record), offset: record.offset };
      for (const memberId of dueMembers(logic, candidates, record.tick)) {
        const step = stepTick(logic, records.get(memberId)!, memberId, record, tick, limits);
        records.set(memberId, step.record);
        outputs.push(...step.outputs);
      }
      if (options.forwardTicksTo) outputs.push(forwardedTick(record, record.tick, options.forwardTicksTo));
      continue;
    }
    if (decoded.kind === 'rejected') {
      outputs.push(deadLetter(logic.name, record, decoded.rejection, decoded));
      continue;
    }
    let seen = membersOfPartition.get(tp);
    if (!seen) membersOfPartition.set(tp, (seen = new Set()));
    seen.add(decoded.memberId);
    const current = records.get(decoded.memberId) ?? emptyRecord<S>();
    const ctx = decideContext(rules, record, options.view?.(decoded.event, record));
    const step = stepMember(logic, current, { record, ...decoded }, ctx, limits);
    records.set(decoded.memberId, step.record);
    outputs.push(...step.outputs);
    options.afterStep?.(step.outputs, record);
  }
  const states = new Map<string, S>();
  for (const [member, rec] of records) if (rec.state !== null) states.set(member, rec.state);
  return { states, outputs };
}
