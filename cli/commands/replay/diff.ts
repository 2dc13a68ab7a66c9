import { workerDefinition, workers } from '../../../services/index.js';
/**
 * `replay diff`: the shadow's state against the live state, member by member, and its
 * outputs against the live outputs, by event id.
 */
import { isDeepStrictEqual } from 'node:util';
import { physicalTopic, type LogicalTopic } from '../../../shared/contracts/topics.js';
import { readLivePointer } from '../../../shared/redis/live-pointer.js';
import { MemberStore } from '../../../shared/redis/member-store.js';
import { readReplayMeta } from '../../../shared/replay/meta.js';
import { readTopicRecords } from './read.js';
import { ReplayRefused, workerEntry, type ReplayContext } from './shared.js';

/** The figures a person compares per worker (the registry's headline; the full states are compared too). */
export function headline(worker: string, state: unknown): Record<string, unknown> {
  return workers[worker]?.headline(state) ?? {};
}

export interface StateDiff {
  members: {
    live: number;
    shadow: number;
    both: number;
    onlyLive: number;
    onlyShadow: number;
    equal: number;
    different: number;
  };
  /** Per headline field: members whose value differs. */
  byField: Record<string, number>;
  samples: Array<{ memberId: string; live: Record<string, unknown> | null; shadow: Record<string, unknown> | null }>;
}

export interface OutputDiff {
  topic: LogicalTopic;
  live: number;
  shadow: number;
  same: number;
  different: number;
  onlyLive: number;
  onlyShadow: number;
  samples: Array<{ id: string; live: unknown; shadow: unknown }>;
}

export interface DiffReport {
  worker: string;
  liveState: string;
  shadow: string;
  state: StateDiff;
  outputs: OutputDiff[];
}

/** Pure: compares two member → state maps. */
export function diffStates(
  worker: string,
  live: ReadonlyMap<string, unknown>,
  shadow: ReadonlyMap<string, unknown>,
  maxSamples = 5,
): StateDiff {
  const ids = new Set([...live.keys(), ...shadow.keys()]);
  const d: StateDiff = {
    members: { live: live.size, shadow: shadow.size, both: 0, onlyLive: 0, onlyShadow: 0, equal: 0, different: 0 },
    byField: {},
    samples: [],
  };
  for (const id of [...ids].sort()) {
    const a = live.get(id);
    const b = shadow.get(id);
    if (a !== undefined && b !== undefined) d.members.both++;
    else if (a !== undefined) d.members.onlyLive++;
    else d.members.onlyShadow++;
    if (a !== undefined && b !== undefined && isDeepStrictEqual(a, b)) {
      d.members.equal++;
      continue;
    }
    d.members.different++;
    const ha = a === undefined ? null : headline(worker, a);
    const hb = b === undefined ? null : headline(worker, b);
    for (const k of new Set([...Object.keys(ha ?? {}), ...Object.keys(hb ?? {})])) {
      if (!isDeepStrictEqual(ha?.[k], hb?.[k])) d.byField[k] = (d.byField[k] ?? 0) + 1;
    }
    if (d.samples.length < maxSamples && !isDeepStrictEqual(ha, hb))
      d.samples.push({ memberId: id, live: ha, shadow: hb });
  }
  return d;
}

/** Pure: compares two topics' events by id (the first copy of each id counts). */
export function diffOutputs(
  topic: LogicalTopic,
  live: ReadonlyArray<{ id: string; value: unknown }>,
  shadow: ReadonlyArray<{ id: string; value: unknown }>,
  maxSamples = 5,
): OutputDiff {
  const first = (rs: ReadonlyArray<{ id: string; value: unknown }>) => {
    const m = new Map<string, unknown>();
    for (const r of rs) if (!m.has(r.id)) m.set(r.id, r.value);
    return m;
  };
  const a = first(live);
  const b = first(shadow);
  const d: OutputDiff = {
    topic,
    live: a.size,
    shadow: b.size,
    same: 0,
    different: 0,
    onlyLive: 0,
    onlyShadow: 0,
    samples: [],
  };
  for (const [id, v] of a) {
    if (!b.has(id)) d.onlyLive++;
    else if (isDeepStrictEqual(v, b.get(id))) d.same++;
    else {
      d.different++;
      if (d.samples.length < maxSamples) d.samples.push({ id, live: v, shadow: b.get(id) });
    }
  }
  for (const id of b.keys()) if (!a.has(id)) d.onlyShadow++;
  return d;
}

export async function replayDiff(rc: ReplayContext, namespace: string): Promise<DiffReport> {
  const meta = await readReplayMeta(rc.clients.redis, namespace);
  if (meta === null) throw new ReplayRefused(`no replay in ${namespace}`);
  const worker = meta.worker;
  const pointer = await readLivePointer(rc.clients.redis, rc.liveNamespace, worker);
  const liveState = pointer.namespace === namespace ? (pointer.previous ?? rc.liveNamespace) : pointer.namespace;
  const states = async (ns: string) => {
    const m = new Map<string, unknown>();
    for await (const [id, s] of new MemberStore<unknown>(rc.clients.redis, ns, workerDefinition(worker)).scanStates())
      m.set(id, s);
    return m;
  };
  const state = diffStates(worker, await states(liveState), await states(namespace));
  const outputs: OutputDiff[] = [];
  for (const topic of workerEntry(worker).definition.outputs) {
    if (topic === 'activity.dlq') continue;
    const [live, shadow] = await Promise.all([
      readTopicRecords(rc, physicalTopic(rc.liveNamespace, topic)),
      readTopicRecords(rc, physicalTopic(namespace, topic)),
    ]);
    outputs.push(diffOutputs(topic, live, shadow));
  }
  return { worker, liveState, shadow: namespace, state, outputs };
}
