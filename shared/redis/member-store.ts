import { readFileSync } from 'node:fs';
import type { ChainableCommander } from 'ioredis';
import {
  emptyRecord,
  encodeState,
  stateCodecOf,
  type MemberRecord,
  type OutboxEntry,
} from '../kernel/member-record.js';
import { fenceKeyOf, StateLostError } from './live-pointer.js';
import { compareOffsets } from '../kernel/offsets.js';
import { fromJson, toJson } from '../util/json.js';
import type { OutputEvent, Projection, StateCodec } from '../kernel/types.js';
import { pipelineOf, replicationCheck, requiresReplication, scanKeysByNode, type RedisClient } from './client.js';
import {
  appliedMarksKey,
  bucketOf,
  memberIdOfKey,
  memberKey,
  memberKeyPattern,
  outboxKey,
  projectionBuckets,
  projectionShardKey,
  tickJournalKey,
  timersKey,
  unsettledKey,
  type KeyLayout,
} from './keys.js';
import { decodeRecord, encodeRecordBody, type StateEncoding, type StoredRecord } from './record-codec.js';
import { scriptReply } from './script-replies.js';

const luaFile = (name: string) => readFileSync(new URL(`./lua/${name}`, import.meta.url), 'utf8');
/** The fence check and the reply codes both fenced scripts use, in front of each (Lua has no include). */
const fencePrelude = luaFile('fence.lua');
const commitScript = `${fencePrelude}\n${luaFile('commit-member.lua')}`;
const markScript = `${fencePrelude}\n${luaFile('mark-applied.lua')}`;
const dropScript = luaFile('drop-outbox.lua');
/** Versioned command names: a changed script never collides with an older one loaded in Redis. */
const commitCommand = 'mfCommitMemberV6';
const markCommand = 'mfMarkAppliedV3';
const dropCommand = 'mfDropOutboxV1';

/**
 * A script as a command of a fixed key count (commit and mark vary: with or without the fence,
 * and the projection shards a write touches). A command's first argument must be a key: a
 * cluster client routes, and groups a pipeline by, the slot of the first argument. Called on a
 * pipeline it queues the call and returns the pipeline (the reply comes from `exec`).
 */
type ScriptCommand = (...keysAndArgs: Array<string | number | Buffer>) => ChainableCommander;
type Batch = ChainableCommander & Record<string, ScriptCommand>;

/**
 * Most keys one script call takes: record, outbox, fence and the shards of the projections one
 * member's write changes (a worker's projection names that one state can leave and enter).
 */
const maxScriptKeys = 12;

/** Defines `lua` as commands `<name>K<n>` for 1..maxScriptKeys keys (a pipeline knows only the commands defined before it). */
function defineScript(redis: RedisClient, name: string, lua: string): void {
  for (let keys = 1; keys <= maxScriptKeys; keys++) {
    const command = `${name}K${keys}`;
    if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: keys, lua });
  }
}

/** The command of a script defined by defineScript for `keys` keys. */
function scriptCommand(name: string, keys: number): string {
  if (keys > maxScriptKeys)
    throw new Error(
      `a script call of ${keys} keys: at most ${maxScriptKeys} (record, outbox, fence, projection shards)`,
    );
  return `${name}K${keys}`;
}

/** The outbox hash's field for one input: "<topic>:<partition>@<offset>". */
const outboxField = (e: Pick<OutboxEntry, 'tp' | 'offset'>): string => `${e.tp}@${e.offset}`;

export interface LoadedMember<S> {
  memberId: string;
  version: number;
  record: MemberRecord<S>;
}

export interface MemberWrite<S> {
  memberId: string;
  expectedVersion: number;
  record: MemberRecord<S>;
  /** The outbox as loaded: entries no longer in `record.outbox` are removed, new ones added. */
  loadedOutbox?: readonly OutboxEntry[];
  /** Projection rows to add or update, and rows to remove, written atomically with the record. */
  projections?: { upsert: readonly Projection[]; remove: readonly Projection[] };
}

/** Members a tick may concern: per topic-partition, from the timer index, and any journal of a tick applied before a crash. */
export interface TickCandidates {
  due: Map<string, string[]>;
  /** Keyed `<tp>@<offset>`. */
  journals: Map<string, string[]>;
}

/** The members one tick was applied to, kept so a redelivered tick re-publishes exactly their outputs. */
export interface TickJournal {
  tp: string;
  offset: string;
  members: string[];
}

export interface TimerUpdate {
  tp: string;
  memberId: string;
  /** Next due time, or null for nothing due. */
  due: number | null;
}

/** A tick journal only matters until its offset is committed; a week is far beyond any redelivery. */
const journalTtlSeconds = 7 * 24 * 3600;

/** The worker's live pointer moved on (a replay was promoted): this generation must stop. */
export class PointerMovedError extends Error {
  override name = 'PointerMovedError';
  constructor(readonly memberIds: string[]) {
    super(`the live pointer moved on: ${memberIds.length} member write(s) of an old generation refused`);
  }
}

/** A writer that follows a live pointer: its writes are refused once the pointer's epoch is no longer this one. */
export interface PointerFence {
  /** Whose pointer: the topic namespace and worker it was claimed for (shared/redis/live-pointer.ts). */
  topicNamespace: string;
  worker: string;
  epoch: number;
}

export class FencedWriteError extends Error {
  override name = 'FencedWriteError';
  readonly retriable = true;
  constructor(readonly memberIds: string[]) {
    super(`another writer updated ${memberIds.length} member record(s) first`);
  }
}

/**
 * What a committed batch leaves to clean up: the outbox entries and tick journals of inputs
 * whose offsets are now committed (see MemberStore.dropCommitted).
 */
export interface CommittedBatch {
  /** Topic-partition and the committed position (next offset to read). */
  tp: string;
  position: string;
  /** The batch's members and their outbox fields of this partition: deleted by name. */
  entries: ReadonlyMap<string, readonly string[]>;
  /** Members an earlier batch left entries to (a crash between a commit and its drop): every entry below the position goes. */
  leftovers: readonly string[];
  /** Unsettled-journal fields this drop settles (this batch's, and the earlier batches' whose leftovers it drops). */
  journalFields: readonly string[];
  /** Offsets of the ticks the batch journaled. */
  tickOffsets: readonly string[];
}

/** Batches whose outbox entries were not dropped yet: per partition, the journal fields and their members. */
export type Unsettled = Map<string, { fields: string[]; members: string[] }>;

/** Fields of the unsettled journal: "<batch's highest offset>#<writer>-<n>", unique per write. */
let unsettledSeq = 0;
const unsettledField = (offset: string): string => `${offset}#${process.pid}-${++unsettledSeq}`;
const unsettledOffset = (field: string): string => field.slice(0, field.indexOf('#'));

/** Loads and writes member records: one round trip per batch in each direction. */
export class MemberStore<S> {
  private readonly redis: RedisClient;
  private readonly worker: string;
  private readonly logic: { stateCodec?: StateCodec<S> };
  private readonly codec: StateCodec<S>;
  private readonly encoding: StateEncoding;
  /** Workers with projections keep records and projection shards in buckets (keys.ts). */
  readonly layout: KeyLayout;

  constructor(
    redis: RedisClient,
    private readonly namespace: string,
    /**
     * The worker, with its state codec (WorkerLogic.stateCodec) when it has one and its
     * projections when it writes any; a name alone means JSON state and no projections.
     */
    worker: string | { name: string; stateCodec?: StateCodec<S>; projections?: unknown },
    private readonly fence: PointerFence | null = null,
  ) {
    this.worker = typeof worker === 'string' ? worker : worker.name;
    this.logic = typeof worker === 'string' ? {} : worker;
    this.layout = typeof worker !== 'string' && worker.projections ? 'bucketed' : 'per-member';
    this.encoding = this.logic.stateCodec ? 'c' : 'j';
    this.redis = redis;
    defineScript(redis, commitCommand, commitScript);
    defineScript(redis, markCommand, markScript);
    defineScript(redis, dropCommand, dropScript);
    this.codec = stateCodecOf(this.logic);
  }

  key(memberId: string): string {
    return memberKey(this.namespace, this.worker, memberId, this.layout);
  }

  outboxKey(memberId: string): string {
    return outboxKey(this.namespace, this.worker, memberId, this.layout);
  }

  private batch(): Batch {
    return pipelineOf(this.redis) as Batch;
  }

  /** Per input partition: the batches whose outbox entries are not dropped yet, and their members. */
  unsettledKey(tp: string): string {
    return unsettledKey(this.namespace, this.worker, tp);
  }

  timersKey(tp: string): string {
    return timersKey(this.namespace, this.worker, tp);
  }

  journalKey(tp: string, offset: string): string {
    return tickJournalKey(this.namespace, this.worker, tp, offset);
  }

  /** One round trip: due members per partition (timer index up to the batch's latest tick) and journals of its ticks. */
  async tickCandidates(
    queries: readonly { tp: string; maxTime: number; offsets: string[] }[],
  ): Promise<TickCandidates> {
    const result: TickCandidates = { due: new Map(), journals: new Map() };
    if (queries.length === 0) return result;
    const pipeline = this.batch();
    for (const q of queries) {
      pipeline.zrangebyscore(this.timersKey(q.tp), '-inf', q.maxTime);
      for (const o of q.offsets) pipeline.get(this.journalKey(q.tp, o));
    }
    const replies = (await pipeline.exec()) ?? [];
    let i = 0;
    const next = () => {
      const [err, value] = replies[i++] ?? [new Error('missing reply'), null];
      if (err) throw err;
      return value;
    };
    for (const q of queries) {
      result.due.set(q.tp, next() as string[]);
      for (const o of q.offsets) {
        const journal = next() as string | null;
        if (journal !== null) result.journals.set(`${q.tp}@${o}`, JSON.parse(journal) as string[]);
      }
    }
    return result;
  }

  /** Members with their outboxes (tools and tests; the batch path loads outboxes only when it needs them). */
  async load(memberIds: readonly string[]): Promise<Map<string, LoadedMember<S>>> {
    const { members } = await this.loadBatch(memberIds, new Map());
    const outboxes = await this.loadOutboxes(memberIds);
    for (const [id, m] of members) m.record = { ...m.record, outbox: outboxes.get(id) ?? [] };
    return members;
  }

  /**
   * One round trip: the members' records (without outboxes: most batches redeliver nothing), and
   * per topic-partition the batches below the given positions (inputs the consumer has moved
   * past) whose outbox entries were never dropped: a process died between an offset commit
   * and the drop after it, or the partition's previous owner did.
   */
  async loadBatch(
    memberIds: readonly string[],
    positions: ReadonlyMap<string, string>,
  ): Promise<{ members: Map<string, LoadedMember<S>>; leftovers: Unsettled }> {
    const result = new Map<string, LoadedMember<S>>();
    const leftovers: Unsettled = new Map();
    if (memberIds.length === 0 && positions.size === 0) return { members: result, leftovers };
    const pipeline = this.batch();
    for (const tp of positions.keys()) pipeline.hgetall(this.unsettledKey(tp));
    for (const id of memberIds) pipeline.getBuffer(this.key(id));
    const all = (await pipeline.exec()) ?? [];
    [...positions].forEach(([tp, position], i) => {
      const [err, journal] = all[i] ?? [new Error('missing reply'), null];
      if (err) throw err;
      const below = unsettledBelow(journal as Record<string, string>, position);
      if (below.fields.length > 0) leftovers.set(tp, below);
    });
    memberIds.forEach((memberId, i) => {
      const [err, raw] = all[positions.size + i] ?? [new Error('missing reply'), null];
      if (err) throw err;
      const key = this.key(memberId);
      const stored = this.checked(decodeRecord(raw as Buffer | null, key), key);
      if (stored === null) {
        result.set(memberId, { memberId, version: 0, record: emptyRecord<S>() });
        return;
      }
      result.set(memberId, {
        memberId,
        version: stored.version,
        record: { state: this.stateOf(stored), watermarks: stored.watermarks, recentIds: stored.recentIds, outbox: [] },
      });
    });
    return { members: result, leftovers };
  }

  /** The members' outboxes (one round trip), for a batch that redelivers their inputs. */
  async loadOutboxes(memberIds: readonly string[]): Promise<Map<string, OutboxEntry[]>> {
    const result = new Map<string, OutboxEntry[]>();
    if (memberIds.length === 0) return result;
    const pipeline = this.batch();
    for (const id of memberIds) pipeline.hgetall(this.outboxKey(id));
    const replies = (await pipeline.exec()) ?? [];
    memberIds.forEach((id, i) => {
      const [err, fields] = replies[i] ?? [new Error('missing reply'), null];
      if (err) throw err;
      result.set(id, outboxEntries(fields as Record<string, string>));
    });
    return result;
  }

  /**
   * After a batch's offsets are committed: drops the outbox entries of its inputs by name, every
   * entry below the position of the members earlier batches left (a crash between a commit and
   * its drop), the journal fields that named them, and the batch's tick journals. One round
   * trip (two where replicas are required). Safe to repeat, and safe to skip: what it leaves stays
   * in the unsettled journal, found again by `loadBatch` on the partition's next batch or by
   * `sweepCommitted` at the next start.
   */
  async dropCommitted(batch: CommittedBatch): Promise<void> {
    if (batch.entries.size + batch.leftovers.length + batch.journalFields.length + batch.tickOffsets.length === 0)
      return;
    const outboxes = this.batch();
    for (const [m, fields] of batch.entries) if (fields.length > 0) outboxes.hdel(this.outboxKey(m), ...fields);
    const drop = scriptCommand(dropCommand, 1);
    for (const m of batch.leftovers) outboxes[drop]!(this.outboxKey(m), batch.tp, batch.position);
    // Last: a drop cut short leaves the journal naming what is still to drop. Where replicas are
    // required the journal waits until they hold the drops: the outboxes live on other nodes than
    // the journal, and a failover that lost a drop after the journal forgot it would strand them.
    const separate = requiresReplication(this.redis);
    const journal = separate ? this.batch() : outboxes;
    if (batch.journalFields.length > 0) journal.hdel(this.unsettledKey(batch.tp), ...batch.journalFields);
    for (const o of batch.tickOffsets) journal.del(this.journalKey(batch.tp, o));
    const check = async (p: ReturnType<MemberStore<S>['batch']>) => {
      for (const [err] of (await p.exec()) ?? []) if (err) throw err;
    };
    const replicated = replicationCheck(this.redis, () =>
      [...[...batch.entries.keys()], ...batch.leftovers].map((m) => this.outboxKey(m)),
    );
    await check(outboxes);
    if (!separate) return;
    await replicated();
    await check(journal);
  }

  /**
   * Writes all records in one pipeline; throws FencedWriteError naming the members that lost the race.
   * `applied` (per topic:partition, the batch's last offset) raises the applied marks first: a batch
   * publishes only after this pipeline, so whatever was published lies at or below the marks.
   */
  async commit(
    writes: readonly MemberWrite<S>[],
    extras: {
      journals?: readonly TickJournal[];
      timers?: readonly TimerUpdate[];
      applied?: ReadonlyMap<string, string>;
    } = {},
  ): Promise<{ unsettled: Map<string, string>; stateBytes: number }> {
    const journals = extras.journals ?? [];
    const timers = extras.timers ?? [];
    const applied = extras.applied ?? new Map<string, string>();
    if (writes.length === 0 && journals.length === 0 && timers.length === 0 && applied.size === 0)
      return { unsettled: new Map(), stateBytes: 0 };
    const pipeline = this.batch();
    // Journals first: if the process dies mid-pipeline, a redelivered tick still finds who it applied to.
    // NX: the first list recorded stands (a zombie that loses its fenced writes cannot replace it).
    for (const j of journals)
      pipeline.set(this.journalKey(j.tp, j.offset), JSON.stringify(j.members), 'EX', journalTtlSeconds, 'NX');
    if (applied.size > 0) {
      const marks = this.appliedMarksKey();
      const keys = this.fence === null ? [marks] : [marks, fenceKeyOf(this.redis, this.fence, marks)];
      pipeline[scriptCommand(markCommand, keys.length)]!(
        ...keys,
        this.fence === null ? '' : String(this.fence.epoch),
        ...[...applied].flat(),
      );
    }
    // The unsettled journal before the records: a crash mid-pipeline leaves it naming a superset of the outboxes written.
    const added = writes.map((w) => this.outboxChanges(w));
    const unsettled = new Map<string, { latest: string; members: string[] }>();
    writes.forEach((w, i) => {
      for (const [tp, offset] of added[i]!.latest) {
        const u = unsettled.get(tp) ?? { latest: offset, members: [] };
        if (compareOffsets(offset, u.latest) > 0) u.latest = offset;
        u.members.push(w.memberId);
        unsettled.set(tp, u);
      }
    });
    const fields = new Map<string, string>();
    for (const [tp, u] of unsettled) {
      const field = unsettledField(u.latest);
      fields.set(tp, field);
      pipeline.hset(this.unsettledKey(tp), field, JSON.stringify(u.members));
    }
    const firstWrite = journals.length + (applied.size > 0 ? 1 : 0) + unsettled.size;
    let stateBytes = 0;
    writes.forEach((w, i) => {
      const body = encodeRecordBody(
        this.encoding,
        w.record.state === null ? null : encodeState(this.logic, w.record.state),
        w.record.watermarks,
        w.record.recentIds,
      );
      const { keys, args } = this.commitArgs(w, added[i]!);
      stateBytes += Buffer.byteLength(body);
      pipeline[scriptCommand(commitCommand, keys.length)]!(...keys, String(w.expectedVersion), body, ...args);
    });
    for (const t of timers) {
      if (t.due === null) pipeline.zrem(this.timersKey(t.tp), t.memberId);
      else pipeline.zadd(this.timersKey(t.tp), t.due, t.memberId);
    }
    // Before the caller publishes and commits offsets the writes must survive a failover: taken before they go out.
    const replicated = replicationCheck(this.redis, () => [
      ...journals.map((j) => this.journalKey(j.tp, j.offset)),
      ...(applied.size > 0 ? [this.appliedMarksKey()] : []),
      ...[...unsettled.keys()].map((tp) => this.unsettledKey(tp)),
      ...writes.map((w) => this.key(w.memberId)),
      ...timers.map((t) => this.timersKey(t.tp)),
    ]);
    const replies = (await pipeline.exec()) ?? [];
    const lost: string[] = [];
    const moved: string[] = [];
    let missingPointer = false;
    let markRefused = false;
    for (const [i, [err]] of replies.entries()) {
      if (err) throw err;
      const reply = Number(replies[i]?.[1]);
      if (applied.size > 0 && i === journals.length) {
        if (reply === scriptReply.fenceMissing) missingPointer = true;
        else if (reply === scriptReply.pointerMoved) markRefused = true;
        continue;
      }
      const w = i >= firstWrite && i < firstWrite + writes.length ? writes[i - firstWrite] : undefined;
      if (w && reply === scriptReply.fenceMissing) missingPointer = true;
      else if (w && reply === scriptReply.pointerMoved) moved.push(w.memberId);
      else if (w && reply === scriptReply.lostRace) lost.push(w.memberId);
    }
    if (missingPointer)
      throw new StateLostError(
        this.worker,
        this.namespace,
        'its live pointer is gone: Redis was flushed or restarted empty',
      );
    if (moved.length > 0 || markRefused) throw new PointerMovedError(moved);
    if (lost.length > 0) throw new FencedWriteError(lost);
    await replicated();
    // Per partition, the unsettled-journal field this write added: the drop after the commit removes it.
    return { unsettled: fields, stateBytes };
  }

  /**
   * Drops every outbox entry below the given committed positions (per topic-partition) that the
   * unsettled journal names: what a process that died between an offset commit and its drop
   * left behind, for members that may never be touched again.
   */
  async sweepCommitted(positions: ReadonlyMap<string, string>): Promise<void> {
    for (const [tp, position] of positions) {
      const below = unsettledBelow(await this.redis.hgetall(this.unsettledKey(tp)), position);
      if (below.fields.length === 0) continue;
      await this.dropCommitted({
        tp,
        position,
        entries: new Map(),
        leftovers: below.members,
        journalFields: below.fields,
        tickOffsets: [],
      });
    }
  }

  appliedMarksKey(): string {
    return appliedMarksKey(this.namespace, this.worker);
  }

  /** The applied marks (see commit): per topic:partition, the highest offset a batch may have published. */
  async appliedMarks(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.appliedMarksKey())));
  }

  /** The shard of projection `name` that holds `memberId`'s rows (same slot as its record). */
  projectionShard(name: string, memberId: string): string {
    if (this.layout !== 'bucketed')
      throw new Error(
        `${this.worker}: a store without projections has no projection shards (build it with the worker's definition)`,
      );
    return projectionShardKey(this.namespace, this.worker, name, bucketOf(memberId, projectionBuckets));
  }

  /** Every shard of projection `name`. */
  projectionShards(name: string): string[] {
    return Array.from({ length: projectionBuckets }, (_, b) =>
      projectionShardKey(this.namespace, this.worker, name, b),
    );
  }

  /**
   * The first `count` rows of projection `name` as one sorted set would give them (ascending
   * score, ties by member in byte order): each shard's first `count`, merged. One round trip.
   */
  async projectionTop(name: string, count: number): Promise<Array<[member: string, score: number]>> {
    if (count <= 0) return [];
    const pipeline = this.batch();
    for (const shard of this.projectionShards(name)) pipeline.zrange(shard, 0, count - 1, 'WITHSCORES');
    const rows: Array<[string, number]> = [];
    for (const [err, flat] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      const f = flat as string[];
      for (let i = 0; i + 1 < f.length; i += 2) rows.push([f[i]!, Number(f[i + 1])]);
    }
    return rows
      .sort(([am, as], [bm, bs]) => as - bs || Buffer.compare(Buffer.from(am), Buffer.from(bm)))
      .slice(0, count);
  }

  /** Rows in projection `name` (the shards' ZCARD summed). One round trip. */
  async projectionSize(name: string): Promise<number> {
    const pipeline = this.batch();
    for (const shard of this.projectionShards(name)) pipeline.zcard(shard);
    let total = 0;
    for (const [err, n] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      total += Number(n);
    }
    return total;
  }

  /** Scores of `members` in projection `name` (null: not in it), each read from its own shard. One round trip. */
  async projectionScores(name: string, members: readonly string[]): Promise<Map<string, number | null>> {
    const byShard = new Map<string, string[]>();
    for (const m of members) {
      const shard = this.projectionShard(name, m);
      const list = byShard.get(shard);
      if (list) list.push(m);
      else byShard.set(shard, [m]);
    }
    const shards = [...byShard];
    const pipeline = this.batch();
    for (const [shard, list] of shards) pipeline.zmscore(shard, ...list);
    const replies = (await pipeline.exec()) ?? [];
    const scores = new Map<string, number | null>();
    shards.forEach(([, list], i) => {
      const [err, values] = replies[i] ?? [new Error('missing reply'), null];
      if (err) throw err;
      list.forEach((m, k) => {
        const v = (values as Array<string | null>)[k];
        scores.set(m, v == null ? null : Number(v));
      });
    });
    return scores;
  }

  /** The outbox entries a write adds (not loaded before) and removes (loaded, no longer kept), and per partition the latest entry. */
  private outboxChanges(w: MemberWrite<S>): { add: OutboxEntry[]; remove: string[]; latest: Map<string, string> } {
    const before = new Set((w.loadedOutbox ?? []).map(outboxField));
    const kept = new Set<string>();
    const add: OutboxEntry[] = [];
    const latest = new Map<string, string>();
    for (const e of w.record.outbox) {
      const field = outboxField(e);
      kept.add(field);
      if (before.has(field)) continue;
      add.push(e);
      const seen = latest.get(e.tp);
      if (seen === undefined || compareOffsets(e.offset, seen) > 0) latest.set(e.tp, e.offset);
    }
    return { add, remove: [...before].filter((f) => !kept.has(f)), latest };
  }

  /**
   * The commit script's keys (record, outbox, the fence in their slot, projection shards) and its
   * arguments after the version and body: the epoch, outbox changes, projection changes.
   */
  private commitArgs(
    w: MemberWrite<S>,
    outbox: { add: OutboxEntry[]; remove: string[] },
  ): { keys: string[]; args: Array<string | number> } {
    const record = this.key(w.memberId);
    const keys = [record, this.outboxKey(w.memberId)];
    if (this.fence !== null) keys.push(fenceKeyOf(this.redis, this.fence, record));
    const p = w.projections ?? { upsert: [], remove: [] };
    const args: Array<string | number> = [
      this.fence === null ? '' : String(this.fence.epoch),
      outbox.add.length,
      outbox.remove.length,
      p.upsert.length + p.remove.length,
    ];
    for (const e of outbox.add) args.push(outboxField(e), toJson(e.outputs));
    args.push(...outbox.remove);
    const shardIndex = (name: string, member: string): number => {
      const shard = this.projectionShard(name, member);
      const at = keys.indexOf(shard);
      if (at >= 0) return at + 1;
      keys.push(shard);
      return keys.length;
    };
    for (const r of p.remove) args.push('r', shardIndex(r.name, r.member), 0, r.member);
    for (const u of p.upsert) args.push('a', shardIndex(u.name, u.member), u.score, u.member);
    return { keys, args };
  }

  /**
   * A record in the worker's own encoding read by a store without its codec is refused, never
   * misread. A JSON record is readable by every store: a worker that gains a codec keeps
   * reading the states written before, and rewrites each in its codec at its next change.
   */
  private checked(stored: StoredRecord | null, key: string): StoredRecord | null {
    if (stored !== null && stored.state !== null && stored.encoding === 'c' && this.encoding !== 'c') {
      throw new Error(
        `member record at ${key} holds the worker's own state encoding: build the store with the worker definition (its stateCodec)`,
      );
    }
    return stored;
  }

  private stateOf(stored: StoredRecord): S | null {
    if (stored.state === null) return null;
    return stored.encoding === 'j' ? (JSON.parse(stored.state) as S) : this.codec.decode(stored.state);
  }

  /** Every member of this worker and namespace with a state: for tools and demos, not the hot path. */
  async *scanStates(batch = 1000): AsyncGenerator<[string, S]> {
    for await (const { node, keys } of scanKeysByNode(
      this.redis,
      memberKeyPattern(this.namespace, this.worker),
      batch,
    )) {
      const pipeline = node.pipeline();
      for (const k of keys) pipeline.getBuffer(k);
      const replies = (await pipeline.exec()) ?? [];
      for (let i = 0; i < keys.length; i++) {
        const raw = replies[i]?.[1];
        const memberId = memberIdOfKey(keys[i]!);
        const stored = Buffer.isBuffer(raw) ? this.checked(decodeRecord(raw, keys[i]!), keys[i]!) : null;
        if (memberId !== undefined && stored?.state != null) yield [memberId, this.stateOf(stored)!];
      }
    }
  }

  async state(memberId: string): Promise<S | null> {
    const loaded = await this.load([memberId]);
    return loaded.get(memberId)?.record.state ?? null;
  }
}

/** The journal's fields of batches wholly below a position, and the members they name. */
function unsettledBelow(
  journal: Record<string, string> | null,
  position: string,
): { fields: string[]; members: string[] } {
  const fields: string[] = [];
  const members = new Set<string>();
  for (const [field, list] of Object.entries(journal ?? {})) {
    if (compareOffsets(unsettledOffset(field), position) >= 0) continue;
    fields.push(field);
    for (const m of JSON.parse(list) as string[]) members.add(m);
  }
  return { fields, members: [...members] };
}

/** The outbox hash's entries, in topic-partition and offset order. */
function outboxEntries(fields: Record<string, string> | null): OutboxEntry[] {
  if (!fields) return [];
  const entries: OutboxEntry[] = [];
  for (const [field, json] of Object.entries(fields)) {
    const at = field.lastIndexOf('@');
    entries.push({ tp: field.slice(0, at), offset: field.slice(at + 1), outputs: fromJson(json) as OutputEvent[] });
  }
  return entries.sort((a, b) => (a.tp === b.tp ? compareOffsets(a.offset, b.offset) : a.tp < b.tp ? -1 : 1));
}
