/**
 * The exactly-once check at the end of a bench: a worker's Redis states and published outputs
 * against the pure reference run over its input log as it is in Kafka (the same oracle as the
 * fault suite). Every state must equal the reference's, and every output id the reference
 * expects must be on its topic with the same value, and no other.
 */
import { workers, workerDefinition } from '../../services/index.js';
import { eventIdHeader } from '../../shared/kafka/client.js';
import { readToEnd } from '../../shared/kafka/read-to-end.js';
import type { LogicalTopic } from '../../shared/contracts/topics.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { defaultLimits } from '../../shared/runtime/run-worker.js';
import { tickHeader, tickTimeFromHeader } from '../../shared/kernel/ticks.js';
import type { Decoded, InputRecord } from '../../shared/kernel/types.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import type { Rules } from '../../shared/config/rules.js';
import { canon } from '../../shared/util/canon.js';
import type { BenchNamespace } from './bench-namespace.js';

export interface ReplayCheck {
  inputs: number;
  statesCompared: number;
  outputsCompared: number;
  mismatches: number;
  samples: string[];
}

interface ReadRecord extends InputRecord {
  id: string | null;
}

const tickPlaceholder: Decoded<never> = {
  kind: 'rejected',
  rejection: { reason: 'tick', message: 'a tick' },
  eventId: null,
  memberId: null,
};

export async function readTopicToEnd(b: BenchNamespace, logical: LogicalTopic): Promise<ReadRecord[]> {
  const topic = b.topic(logical);
  const out: ReadRecord[] = [];
  await readToEnd(b.clients.kafka, topic, `${b.ns}.bench-read`, (partition, m) => {
    const tick = tickTimeFromHeader(m.headers?.[tickHeader] as Buffer | undefined);
    out.push({
      topic,
      partition,
      offset: m.offset,
      timestamp: Number(m.timestamp),
      key: m.key ?? null,
      value: m.value ?? null,
      id: m.headers?.[eventIdHeader]?.toString() ?? null,
      ...(tick === undefined ? {} : { tick }),
    });
  });
  return out.sort((a, b2) => a.partition - b2.partition || Number(BigInt(a.offset) - BigInt(b2.offset)));
}

export async function checkAgainstReference(b: BenchNamespace, workerName: string, rules: Rules): Promise<ReplayCheck> {
  const entry = workers[workerName]!;
  const decoder = entry.decoder(b.clients.codec, () => rules);
  const log: Array<{ record: InputRecord; decoded: Decoded<unknown> }> = [];
  for (const t of entry.definition.inputs) {
    for (const record of await readTopicToEnd(b, t))
      log.push({ record, decoded: record.tick !== undefined ? tickPlaceholder : await decoder.decode(record) });
  }
  const reference = referenceRun(
    entry.definition,
    log,
    rules,
    defaultLimits(rules),
    entry.definition.forwardTicksTo ? { forwardTicksTo: entry.definition.forwardTicksTo } : {},
  );
  const result: ReplayCheck = { inputs: log.length, statesCompared: 0, outputsCompared: 0, mismatches: 0, samples: [] };
  const miss = (what: string) => {
    result.mismatches++;
    if (result.samples.length < 10) result.samples.push(what);
  };
  const store = new MemberStore<unknown>(b.clients.redis, b.ns, workerDefinition(workerName));
  const ids = [...reference.states.keys()];
  for (let i = 0; i < ids.length; i += 2000) {
    const loaded = await store.load(ids.slice(i, i + 2000));
    for (const id of ids.slice(i, i + 2000))
      if (canon(loaded.get(id)?.record.state ?? null) !== canon(reference.states.get(id))) miss(`state of ${id}`);
  }
  let stored = 0;
  for await (const [id] of store.scanStates()) {
    stored++;
    if (!reference.states.has(id)) miss(`a state for ${id} the reference has not`);
  }
  result.statesCompared = reference.states.size;
  const expected = new Map<LogicalTopic, Map<string, unknown>>();
  for (const o of reference.outputs) {
    if (o.tick) continue;
    let m = expected.get(o.topic);
    if (!m) expected.set(o.topic, (m = new Map<string, unknown>()));
    m.set(o.id, o.value);
  }
  for (const [topic, want] of expected) {
    const got = new Map<string, string>();
    for (const r of await readTopicToEnd(b, topic)) {
      if (r.tick !== undefined || r.id === null || !r.value) continue;
      // activity.dlq is shared: only this worker's dead letters are its outputs.
      if (topic === 'activity.dlq' && !r.id.startsWith(`dlq:${workerName}:`)) continue;
      if (!got.has(r.id)) got.set(r.id, canon(await b.clients.codec.decode(r.value)));
    }
    for (const [id, v] of want) {
      const g = got.get(id);
      if (g === undefined) miss(`${topic}: ${id} missing`);
      else if (g !== canon(v)) miss(`${topic}: ${id} differs`);
    }
    for (const id of got.keys()) if (!want.has(id)) miss(`${topic}: ${id} not in the reference`);
    result.outputsCompared += want.size;
  }
  if (stored !== reference.states.size) miss(`${stored} states in Redis, ${reference.states.size} in the reference`);
  return result;
}
