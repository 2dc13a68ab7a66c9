import {
  createLivePointer,
  defaultPointer,
  fenceKeyOf,
  readLivePointer,
  StateLostError,
  writeLivePointer,
} from '../../shared/redis/live-pointer.js';
import {
  connectRedis,
  deleteKeys,
  isCluster,
  pipelineOf,
  ReplicationError,
  replicationCheck,
  type RedisClient,
} from '../../shared/redis/client.js';
import { stackRedis } from '../support/harness.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { emptyRecord, type OutboxEntry } from '../../shared/kernel/member-record.js';
import { FencedWriteError, MemberStore, PointerMovedError } from '../../shared/redis/member-store.js';
import type { OutputEvent } from '../../shared/kernel/types.js';

describe('member store: fenced writes in real Redis', () => {
  let redis: RedisClient;
  const ns = `t-store-${process.pid}`;
  beforeAll(() => {
    redis = stackRedis();
  });
  afterAll(async () => {
    await deleteKeys(redis, `mf:${ns}:*`);
    redis.disconnect();
  });
  /** A worker with projections: its records and projection shards are bucketed (shared/redis/keys.ts). */
  const projecting = (name: string) => ({ name, projections: () => [] });
  const epochOf = async (worker: string) => (await readLivePointer(redis, ns, worker)).epoch;
  const movePointer = async (worker: string, epoch: number) =>
    writeLivePointer(redis, ns, worker, { ...(await readLivePointer(redis, ns, worker)), epoch });

  it('loads many members in one round trip and writes with compare-and-set on the version', async () => {
    const a = new MemberStore<{ n: number }>(redis, ns, 'w');
    const loaded = await a.load(['x', 'y']);
    expect(loaded.get('x')).toMatchObject({ version: 0, record: emptyRecord() });
    await a.commit([{ memberId: 'x', expectedVersion: 0, record: { ...emptyRecord(), state: { n: 1 } } }]);
    expect((await a.load(['x'])).get('x')?.version).toBe(1);
    expect(await a.state('x')).toEqual({ n: 1 });
  });

  it('a writer that loaded an old version loses, and nothing of its write lands', async () => {
    const zombie = new MemberStore<{ n: number }>(redis, ns, 'w');
    const owner = new MemberStore<{ n: number }>(redis, ns, 'w');
    const seen = (await zombie.load(['z'])).get('z')!.version;
    await owner.commit([{ memberId: 'z', expectedVersion: seen, record: { ...emptyRecord(), state: { n: 10 } } }]);
    const attempt = zombie.commit([
      { memberId: 'z', expectedVersion: seen, record: { ...emptyRecord(), state: { n: 99 } } },
    ]);
    await expect(attempt).rejects.toBeInstanceOf(FencedWriteError);
    expect(await owner.state('z')).toEqual({ n: 10 });
  });

  it('writes projection rows with the record, and a fenced-out writer changes none of them', async () => {
    const owner = new MemberStore<{ n: number }>(redis, ns, projecting('proj'));
    const zombie = new MemberStore<{ n: number }>(redis, ns, projecting('proj'));
    await owner.commit([
      {
        memberId: 'i1',
        expectedVersion: 0,
        record: { ...emptyRecord(), state: { n: 2 } },
        projections: {
          upsert: [
            { name: 'popularity', member: 'i1', score: -2 },
            { name: 'old', member: 'i1', score: 1 },
          ],
          remove: [],
        },
      },
    ]);
    expect(await owner.projectionTop('popularity', 10)).toEqual([['i1', -2]]);
    expect(await redis.zscore(owner.projectionShard('popularity', 'i1'), 'i1')).toBe('-2');
    const seen = (await zombie.load(['i1'])).get('i1')!.version;
    await owner.commit([
      {
        memberId: 'i1',
        expectedVersion: seen,
        record: { ...emptyRecord(), state: { n: 3 } },
        projections: {
          upsert: [{ name: 'popularity', member: 'i1', score: -3 }],
          remove: [{ name: 'old', member: 'i1', score: 1 }],
        },
      },
    ]);
    expect(await owner.projectionScores('popularity', ['i1', 'nobody'])).toEqual(
      new Map([
        ['i1', -3],
        ['nobody', null],
      ]),
    );
    expect(await owner.projectionSize('old')).toBe(0);
    const late = zombie.commit([
      {
        memberId: 'i1',
        expectedVersion: seen,
        record: { ...emptyRecord(), state: { n: 9 } },
        projections: {
          upsert: [
            { name: 'popularity', member: 'i1', score: -9 },
            { name: 'old', member: 'i1', score: 5 },
          ],
          remove: [],
        },
      },
    ]);
    await expect(late).rejects.toBeInstanceOf(FencedWriteError);
    expect(await owner.projectionScores('popularity', ['i1'])).toEqual(new Map([['i1', -3]]));
    expect(await owner.projectionSize('old')).toBe(0);
  });

  it('merges projection shards in the order one sorted set keeps: ascending score, ties by member bytes', async () => {
    const store = new MemberStore<{ n: number }>(redis, ns, projecting('merge'));
    // Enough members that every shard holds some; ties on purpose, and ids whose UTF-16 and UTF-8 orders differ.
    const ids = [...Array.from({ length: 60 }, (_, i) => `item-${i}`), 'é', '\uffff', '😀'];
    const score = (i: number) => (i % 7) - 6;
    await store.commit(
      ids.map((id, i) => ({
        memberId: id,
        expectedVersion: 0,
        record: { ...emptyRecord(), state: { n: i } },
        projections: { upsert: [{ name: 'pop', member: id, score: score(i) }], remove: [] },
      })),
    );
    const expected = ids
      .map((id, i): [string, number] => [id, score(i)])
      .sort(([a, x], [b, y]) => x - y || Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(await store.projectionTop('pop', 25)).toEqual(expected.slice(0, 25));
    expect(await store.projectionTop('pop', 1000)).toEqual(expected);
    expect(await store.projectionSize('pop')).toBe(ids.length);
    const shards = new Set(ids.map((id) => store.projectionShard('pop', id)));
    expect(shards.size).toBeGreaterThan(8);
  });

  it('a writer of an old live-pointer epoch is refused, and nothing of its write lands', async () => {
    await createLivePointer(redis, ns, 'fenced', defaultPointer(ns));
    const old = new MemberStore<{ n: number }>(redis, ns, projecting('fenced'), {
      topicNamespace: ns,
      worker: 'fenced',
      epoch: await epochOf('fenced'),
    });
    await old.commit([{ memberId: 'p', expectedVersion: 0, record: { ...emptyRecord(), state: { n: 1 } } }]);
    await movePointer('fenced', 1);
    const attempt = old.commit([
      {
        memberId: 'p',
        expectedVersion: 1,
        record: { ...emptyRecord(), state: { n: 2 } },
        projections: { upsert: [{ name: 'x', member: 'p', score: 1 }], remove: [] },
      },
    ]);
    await expect(attempt).rejects.toBeInstanceOf(PointerMovedError);
    expect(await old.state('p')).toEqual({ n: 1 });
    expect(await old.projectionSize('x')).toBe(0);
    const current = new MemberStore<{ n: number }>(redis, ns, projecting('fenced'), {
      topicNamespace: ns,
      worker: 'fenced',
      epoch: 1,
    });
    await current.commit([{ memberId: 'p', expectedVersion: 1, record: { ...emptyRecord(), state: { n: 3 } } }]);
    expect(await current.state('p')).toEqual({ n: 3 });
  });

  it('a fenced writer whose live pointer is gone (Redis lost its data) is refused with StateLostError', async () => {
    await createLivePointer(redis, ns, 'lost', defaultPointer(ns));
    const fence = { topicNamespace: ns, worker: 'lost', epoch: 0 };
    const store = new MemberStore<{ n: number }>(redis, ns, 'lost', fence);
    await store.commit([{ memberId: 'q', expectedVersion: 0, record: { ...emptyRecord(), state: { n: 1 } } }]);
    // What a node that restarted empty loses: the fence in the member's slot, and the member.
    await redis.del(fenceKeyOf(redis, fence, store.key('q')));
    await redis.del(store.key('q'));
    await expect(
      store.commit([{ memberId: 'q', expectedVersion: 0, record: { ...emptyRecord(), state: { n: 2 } } }]),
    ).rejects.toBeInstanceOf(StateLostError);
    expect(await store.state('q')).toBeNull();
  });

  it('raises applied marks per partition, never lowers them, and refuses them for an old epoch', async () => {
    await createLivePointer(redis, ns, 'marks', defaultPointer(ns));
    const store = new MemberStore<{ n: number }>(redis, ns, 'marks', { topicNamespace: ns, worker: 'marks', epoch: 0 });
    const write = (v: number, n: number) => [
      { memberId: 'r', expectedVersion: v, record: { ...emptyRecord<{ n: number }>(), state: { n } } },
    ];
    await store.commit(write(0, 1), {
      applied: new Map([
        ['t:0', '99'],
        ['t:1', '7'],
      ]),
    });
    // Offsets compare as numbers: 100 is past 99 although it sorts before it as text; 5 is not past 7, nor 9 past 10.
    await store.commit(write(1, 2), {
      applied: new Map([
        ['t:0', '100'],
        ['t:1', '5'],
      ]),
    });
    await store.commit([], {
      applied: new Map([
        ['t:0', '99'],
        ['t:2', '10'],
      ]),
    });
    await store.commit([], { applied: new Map([['t:2', '9']]) });
    expect(await store.appliedMarks()).toEqual(
      new Map([
        ['t:0', '100'],
        ['t:1', '7'],
        ['t:2', '10'],
      ]),
    );
    await movePointer('marks', 1);
    await expect(store.commit(write(2, 3), { applied: new Map([['t:0', '200']]) })).rejects.toBeInstanceOf(
      PointerMovedError,
    );
    expect((await store.appliedMarks()).get('t:0')).toBe('100');
    // A batch with outputs and no member write still raises its mark (and is refused like a write).
    await expect(store.commit([], { applied: new Map([['t:1', '9']]) })).rejects.toBeInstanceOf(PointerMovedError);
    const current = new MemberStore<{ n: number }>(redis, ns, 'marks', {
      topicNamespace: ns,
      worker: 'marks',
      epoch: 1,
    });
    await current.commit([], { applied: new Map([['t:1', '9']]) });
    expect((await current.appliedMarks()).get('t:1')).toBe('9');
  });

  it('scans members whose ids hold a newline, a brace or a glob character', async () => {
    const odd = new MemberStore<{ n: number }>(redis, ns, 'scan-odd');
    const ids = ['line\nbreak', 'brace}id', 'star*?[x]', ' lead'];
    await odd.commit(
      ids.map((memberId, n) => ({ memberId, expectedVersion: 0, record: { ...emptyRecord(), state: { n } } })),
    );
    const seen: string[] = [];
    for await (const [id] of odd.scanStates(1)) seen.push(id);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it("scans every member with a state, and only this worker's", async () => {
    const a = new MemberStore<{ n: number }>(redis, ns, 'scan');
    const other = new MemberStore<{ n: number }>(redis, ns, 'scan-other');
    await a.commit(
      [1, 2, 3].map((n) => ({ memberId: `s${n}`, expectedVersion: 0, record: { ...emptyRecord(), state: { n } } })),
    );
    await other.commit([{ memberId: 's9', expectedVersion: 0, record: { ...emptyRecord(), state: { n: 9 } } }]);
    const seen = [];
    for await (const entry of a.scanStates(2)) seen.push(entry);
    expect(seen.sort()).toEqual([
      ['s1', { n: 1 }],
      ['s2', { n: 2 }],
      ['s3', { n: 3 }],
    ]);
    // A client that has sent nothing yet (a cluster client then knows no node) scans them all too.
    const fresh = stackRedis();
    try {
      const again = [];
      for await (const entry of new MemberStore<{ n: number }>(fresh, ns, 'scan').scanStates(2)) again.push(entry);
      expect(again.sort()).toEqual(seen.sort());
    } finally {
      fresh.disconnect();
    }
  });

  const out = (id: string): OutputEvent => ({ topic: 'behavior.events', key: 'm', id, value: { id } });
  const entry = (tp: string, offset: string): OutboxEntry => ({ tp, offset, outputs: [out(`${tp}@${offset}`)] });

  const fieldsOf = (entries: OutboxEntry[]) => entries.map((e) => `${e.tp}@${e.offset}`);

  it('keeps outputs in the outbox until their offsets are committed, then drops exactly those', async () => {
    const store = new MemberStore<{ n: number }>(redis, ns, 'outbox');
    const first = {
      ...emptyRecord<{ n: number }>(),
      state: { n: 1 },
      outbox: [entry('t:0', '5'), entry('t:0', '6'), entry('t:1', '3')],
    };
    const written = await store.commit([{ memberId: 'o1', expectedVersion: 0, record: first, loadedOutbox: [] }]);
    const loaded = (await store.load(['o1'])).get('o1')!;
    expect(loaded.record.outbox).toEqual(first.outbox);
    // The unsettled journal names o1 under each partition's batch, until the drop.
    expect(Object.values(await redis.hgetall(store.unsettledKey('t:0')))).toEqual(['["o1"]']);
    // A later batch adds offset 9 (kept) while the commit of position 7 settles.
    const later = { ...loaded.record, outbox: [...loaded.record.outbox, entry('t:0', '9')] };
    const written2 = await store.commit([
      { memberId: 'o1', expectedVersion: loaded.version, record: later, loadedOutbox: loaded.record.outbox },
    ]);
    await store.dropCommitted({
      tp: 't:0',
      position: '7',
      entries: new Map([['o1', ['t:0@5', 't:0@6']]]),
      leftovers: [],
      journalFields: [written.unsettled.get('t:0')!],
      tickOffsets: [],
    });
    expect(fieldsOf((await store.load(['o1'])).get('o1')!.record.outbox)).toEqual(['t:0@9', 't:1@3']);
    expect(Object.keys(await redis.hgetall(store.unsettledKey('t:0')))).toEqual([written2.unsettled.get('t:0')]);
    await store.dropCommitted({
      tp: 't:0',
      position: '10',
      entries: new Map([['o1', ['t:0@9']]]),
      leftovers: [],
      journalFields: [written2.unsettled.get('t:0')!],
      tickOffsets: [],
    });
    await store.dropCommitted({
      tp: 't:1',
      position: '4',
      entries: new Map([['o1', ['t:1@3']]]),
      leftovers: [],
      journalFields: [written.unsettled.get('t:1')!],
      tickOffsets: [],
    });
    expect(await redis.exists(store.outboxKey('o1'))).toBe(0);
    expect(await redis.exists(store.unsettledKey('t:0'))).toBe(0);
    expect(await store.state('o1')).toEqual({ n: 1 });
  });

  it("finds the batches a crash left unsettled (committed, never dropped) with the next batch's load, and drops them all", async () => {
    const store = new MemberStore<{ n: number }>(redis, ns, 'leftover');
    await store.commit([
      {
        memberId: 'l1',
        expectedVersion: 0,
        record: { ...emptyRecord(), state: { n: 1 }, outbox: [entry('t:0', '4')] },
        loadedOutbox: [],
      },
      {
        memberId: 'l3',
        expectedVersion: 0,
        record: { ...emptyRecord(), state: { n: 3 }, outbox: [entry('t:0', '5')] },
        loadedOutbox: [],
      },
    ]);
    await store.commit([
      {
        memberId: 'l2',
        expectedVersion: 0,
        record: { ...emptyRecord(), state: { n: 2 }, outbox: [entry('t:0', '8')] },
        loadedOutbox: [],
      },
    ]);
    const { leftovers } = await store.loadBatch(['x'], new Map([['t:0', '8']]));
    expect(leftovers.get('t:0')?.members.sort()).toEqual(['l1', 'l3']);
    await store.dropCommitted({
      tp: 't:0',
      position: '8',
      entries: new Map(),
      leftovers: leftovers.get('t:0')!.members,
      journalFields: leftovers.get('t:0')!.fields,
      tickOffsets: [],
    });
    expect(await redis.exists(store.outboxKey('l1'))).toBe(0);
    expect(await redis.exists(store.outboxKey('l3'))).toBe(0);
    expect(await redis.exists(store.outboxKey('l2'))).toBe(1);
    // A restarted worker sweeps what is below the group's committed position.
    await store.sweepCommitted(new Map([['t:0', '9']]));
    expect(await redis.exists(store.outboxKey('l2'))).toBe(0);
    expect(await redis.exists(store.unsettledKey('t:0'))).toBe(0);
  });

  it('a batch loads outboxes only on request, and a record removes the entries it no longer holds; committed tick journals go', async () => {
    const store = new MemberStore<{ n: number }>(redis, ns, 'trim');
    await store.commit(
      [
        {
          memberId: 'r1',
          expectedVersion: 0,
          record: { ...emptyRecord(), state: { n: 1 }, outbox: [entry('t:0', '1'), entry('t:0', '2')] },
          loadedOutbox: [],
        },
      ],
      {
        journals: [{ tp: 't:0', offset: '3', members: ['r1'] }],
      },
    );
    expect((await store.loadBatch(['r1'], new Map())).members.get('r1')!.record.outbox).toEqual([]);
    const loaded = (await store.load(['r1'])).get('r1')!;
    await store.commit([
      {
        memberId: 'r1',
        expectedVersion: 1,
        record: { ...loaded.record, outbox: [entry('t:0', '2')] },
        loadedOutbox: loaded.record.outbox,
      },
    ]);
    expect((await store.load(['r1'])).get('r1')!.record.outbox.map((e) => e.offset)).toEqual(['2']);
    expect(await redis.exists(store.journalKey('t:0', '3'))).toBe(1);
    await store.dropCommitted({
      tp: 't:0',
      position: '4',
      entries: new Map(),
      leftovers: [],
      journalFields: [],
      tickOffsets: ['3'],
    });
    expect(await redis.exists(store.journalKey('t:0', '3'))).toBe(0);
  });

  it("stores a state through the worker's codec, and refuses to read it without that codec", async () => {
    const codec = { encode: (s: { n: number }) => `n=${s.n}`, decode: (t: string) => ({ n: Number(t.slice(2)) }) };
    const store = new MemberStore<{ n: number }>(redis, ns, { name: 'codec', stateCodec: codec });
    await store.commit([{ memberId: 'c1', expectedVersion: 0, record: { ...emptyRecord(), state: { n: 42 } } }]);
    expect((await redis.getBuffer(store.key('c1')))!.toString('utf8')).toMatch(/^1 4 2 c\nn=42\{\}$/);
    expect(await store.state('c1')).toEqual({ n: 42 });
    await expect(new MemberStore<{ n: number }>(redis, ns, 'codec').state('c1')).rejects.toThrow(/stateCodec/);
  });

  it('a worker that gains a codec reads the JSON states written before it, and writes its own encoding next', async () => {
    const before = new MemberStore<{ n: number }>(redis, ns, 'gained');
    await before.commit([{ memberId: 'g1', expectedVersion: 0, record: { ...emptyRecord(), state: { n: 7 } } }]);
    const codec = { encode: (s: { n: number }) => `n=${s.n}`, decode: (t: string) => ({ n: Number(t.slice(2)) }) };
    const after = new MemberStore<{ n: number }>(redis, ns, { name: 'gained', stateCodec: codec });
    const loaded = (await after.load(['g1'])).get('g1')!;
    expect(loaded.record.state).toEqual({ n: 7 });
    await after.commit([
      { memberId: 'g1', expectedVersion: loaded.version, record: { ...loaded.record, state: { n: 8 } } },
    ]);
    expect((await redis.getBuffer(after.key('g1')))!.toString('utf8')).toMatch(/^2 3 2 c\nn=8\{\}$/);
  });
  it('confirms writes only on the connection that took them: a connection lost in between means redo, not a WAIT elsewhere', async () => {
    const stack = inject('stack');
    const target = stack.REDIS_CLUSTER_NODES
      ? { clusterNodes: stack.REDIS_CLUSTER_NODES.split(',') }
      : { url: stack.REDIS_URL };
    // One replica required: the cluster's masters have one each; the single node has none, so WAIT answers 0 there.
    const durable = connectRedis(target, {}, { replicas: 1, timeoutMs: 200 });
    try {
      const key = `mf:${ns}:replicated:{m1}`;
      await durable.set(key, 'warm');
      const steady = replicationCheck(durable, () => [key]);
      await durable.set(key, 'a');
      if (isCluster(durable)) await expect(steady()).resolves.toBeUndefined();
      else await expect(steady()).rejects.toThrow(/0 of 1 required replica/);

      const lost = replicationCheck(durable, () => [key]);
      await durable.set(key, 'b');
      // What a killed master looks like to the client: the connection that took the write ends, and a later one would WAIT on nothing.
      const nodes = isCluster(durable) ? durable.nodes('master') : [durable];
      for (const n of nodes) n.disconnect(true);
      await durable.set(`mf:${ns}:replicated:{m2}`, 'after');
      await expect(lost()).rejects.toBeInstanceOf(ReplicationError);
      await expect(lost()).rejects.toThrow(/changed or is gone/);
    } finally {
      durable.disconnect();
    }
  });

  it('a batch sends nothing before exec, on a cluster too: outbox drops land before the journal that names them is cleared', async () => {
    const keys = [`mf:${ns}:lazy:{a}`, `mf:${ns}:lazy:{b}`, `mf:${ns}:lazy:{c}`];
    const batch = pipelineOf(redis);
    for (const k of keys) batch.set(k, 'queued');
    // Time for anything sent early to land (a cluster client sends on the next tick).
    await new Promise((r) => setTimeout(r, 100));
    expect(await Promise.all(keys.map((k) => redis.exists(k)))).toEqual([0, 0, 0]);
    const replies = (await batch.exec()) ?? [];
    expect(replies.map(([err, v]) => [err, v])).toEqual([
      [null, 'OK'],
      [null, 'OK'],
      [null, 'OK'],
    ]);
    expect(await Promise.all(keys.map((k) => redis.get(k)))).toEqual(['queued', 'queued', 'queued']);
  });
});
