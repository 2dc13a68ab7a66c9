import { behaviorEvent } from './behavior-event.js';
import type { Decoded, InputDecoder, InputRecord, OutputEvent } from '../../shared/kernel/types.js';
import type { WorkerDefinition } from '../../shared/runtime/worker-definition.js';

/**
 * A tiny time-driven worker for kernel tests: every event grants a credit that
 * expires `ttl` ms after the event; ticks expire what is due and say so.
 */
export interface Credits {
  credits: { id: string; expiresAt: number }[];
  expired: number;
}
export interface CreditEvent {
  id: string;
  member: string;
  at: number;
}

export const ttl = 1_000;

function output(id: string, member: string, at: number, type: string, total: number): OutputEvent {
  return {
    topic: 'behavior.events',
    key: member,
    id,
    value: {
      ...behaviorEvent({ eventId: id, sourceEventId: id, userId: member, type, occurredAt: at }),
      purchaseCount: total,
      rulesVersion: 't',
    },
  };
}

export const timedWorker: WorkerDefinition<Credits, CreditEvent> = {
  name: 'timed-test',
  inputs: ['activity.events'],
  outputs: ['behavior.events'],
  initialState: () => ({ credits: [], expired: 0 }),
  decide(state, e) {
    const credits = [...state.credits, { id: e.id, expiresAt: e.at + ttl }];
    return {
      kind: 'applied',
      state: { ...state, credits },
      outputs: [output(`grant:${e.id}`, e.member, e.at, 'grant', credits.length)],
    };
  },
  nextDue: (s) => (s.credits.length === 0 ? null : Math.min(...s.credits.map((c) => c.expiresAt))),
  onTick(state, member, tick) {
    const due = state.credits.filter((c) => c.expiresAt <= tick.time).sort((a, b) => a.id.localeCompare(b.id));
    const credits = state.credits.filter((c) => c.expiresAt > tick.time);
    const outputs = due.map((c) =>
      output(`expire:${c.id}:${tick.tickId}`, member, tick.time, 'expire', credits.length),
    );
    return { kind: 'applied', state: { credits, expired: state.expired + due.length }, outputs };
  },
};

export const timedDecoder: InputDecoder<CreditEvent> = {
  // eslint-disable-next-line @typescript-eslint/require-await -- InputDecoder.decode returns a Promise (a throw becomes a rejection)
  async decode(record: InputRecord): Promise<Decoded<CreditEvent>> {
    const e = JSON.parse(record.value?.toString() ?? 'null') as CreditEvent;
    return { kind: 'event', memberId: e.member, eventId: e.id, event: e };
  },
};
