import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { emptyRecord, type MemberRecord } from '../kernel/member-record.js';
import { StateLostError } from '../kernel/live-pointer.js';
import { fromJson, toJson } from '../util/json.js';
import type { Projection } from '../kernel/types.js';
import { appliedMarksKey, memberKey, projectionKey, tickJournalKey, timersKey } from './keys.js';

const commitScript = readFileSync(new URL('./lua/commit-member.lua', import.meta.url), 'utf8');
const markScript = readFileSync(new URL('./lua/mark-applied.lua', import.meta.url), 'utf8');
/** Versioned command names: a changed script never collides with an older one loaded in Redis. */
const commitCommand = 'mfCommitMemberV3';
const markCommand = 'mfMarkAppliedV1';

type RedisWithCommands = Redis & {
  [commitCommand]: (key: string, expectedVersion: string, record: string, ...projectionChanges: Array<string | number>) => Promise<number>;
  [markCommand]: (key: string, ...fenceAndMarks: string[]) => Promise<number>;
};

export interface LoadedMember<S> {
  memberId: string;
  version: number;
  record: MemberRecord<S>;
}

export interface MemberWrite<S> {
  memberId: string;
  expectedVersion: number;
  record: MemberRecord<S>;
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
  key: string;
  epoch: number;
}

export class FencedWriteError extends Error {
  override name = 'FencedWriteError';
  readonly retriable = true;
  constructor(readonly memberIds: string[]) {
    super(`another writer updated ${memberIds.length} member record(s) first`);
  }
}

/** Loads and writes member records: one round trip per batch in each direction. */
export class MemberStore<S> {
  private readonly redis: RedisWithCommands;

  constructor(
    redis: Redis,
    private readonly namespace: string,
    private readonly worker: string,
    private readonly fence: PointerFence | null = null,
  ) {
    if (!(commitCommand in redis)) {
      redis.defineCommand(commitCommand, { numberOfKeys: 1, lua: commitScript });
    }
    if (!(markCommand in redis)) {
      redis.defineCommand(markCommand, { numberOfKeys: 1, lua: markScript });
    }
    this.redis = redis as RedisWithCommands;
  }

  key(memberId: string): string {
    return memberKey(this.namespace, this.worker, memberId);
  }

  timersKey(tp: string): string {
    return timersKey(this.namespace, this.worker, tp);
  }

  journalKey(tp: string, offset: string): string {
    return tickJournalKey(this.namespace, this.worker, tp, offset);
  }

  /** One round trip: due members per partition (timer index up to the batch's latest tick) and journals of its ticks. */
  async tickCandidates(queries: readonly { tp: string; maxTime: number; offsets: string[] }[]): Promise<TickCandidates> {
    const result: TickCandidates = { due: new Map(), journals: new Map() };
    if (queries.length === 0) return result;
    const pipeline = this.redis.pipeline();
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

  async load(memberIds: readonly string[]): Promise<Map<string, LoadedMember<S>>> {
    const result = new Map<string, LoadedMember<S>>();
    if (memberIds.length === 0) return result;
    const pipeline = this.redis.pipeline();
    for (const id of memberIds) pipeline.hmget(this.key(id), 'v', 'r');
    const replies = (await pipeline.exec()) ?? [];
    memberIds.forEach((memberId, i) => {
      const [err, fields] = replies[i] ?? [new Error('missing reply'), null];
      if (err) throw err;
      const [v, r] = fields as [string | null, string | null];
      result.set(memberId, {
        memberId,
        version: v === null ? 0 : Number(v),
        record: r === null ? emptyRecord<S>() : fromJson<MemberRecord<S>>(r),
      });
    });
    return result;
  }

  /**
   * Writes all records in one pipeline; throws FencedWriteError naming the members that lost the race.
   * `applied` (per topic:partition, the batch's last offset) raises the applied marks first: a batch
   * publishes only after this pipeline, so whatever was published lies at or below the marks.
   */
  async commit(
    writes: readonly MemberWrite<S>[],
    extras: { journals?: readonly TickJournal[]; timers?: readonly TimerUpdate[]; applied?: ReadonlyMap<string, string> } = {},
  ): Promise<void> {
    const journals = extras.journals ?? [];
    const timers = extras.timers ?? [];
    const applied = extras.applied ?? new Map<string, string>();
    if (writes.length === 0 && journals.length === 0 && timers.length === 0 && applied.size === 0) return;
    const pipeline = this.redis.pipeline() as unknown as RedisWithCommands & { exec(): Promise<[Error | null, unknown][] | null> } & ReturnType<Redis['pipeline']>;
    // Journals first: if the process dies mid-pipeline, a redelivered tick still finds who it applied to.
    // NX: the first list recorded stands (a zombie that loses its fenced writes cannot replace it).
    for (const j of journals) pipeline.set(this.journalKey(j.tp, j.offset), JSON.stringify(j.members), 'EX', journalTtlSeconds, 'NX');
    if (applied.size > 0) pipeline[markCommand](this.appliedMarksKey(), ...this.fenceArgs(), ...[...applied].flat());
    const firstWrite = journals.length + (applied.size > 0 ? 1 : 0);
    for (const w of writes) pipeline[commitCommand](this.key(w.memberId), String(w.expectedVersion), toJson(w.record), ...this.commitArgs(w));
    for (const t of timers) {
      if (t.due === null) pipeline.zrem(this.timersKey(t.tp), t.memberId);
      else pipeline.zadd(this.timersKey(t.tp), t.due, t.memberId);
    }
    const replies = (await pipeline.exec()) ?? [];
    const lost: string[] = [];
    const moved: string[] = [];
    let missingPointer = false;
    let markRefused = false;
    replies.forEach(([err], i) => {
      if (err) throw err;
      const reply = Number(replies[i]?.[1]);
      if (applied.size > 0 && i === journals.length) {
        if (reply === -3) missingPointer = true;
        else if (reply === -2) markRefused = true;
        return;
      }
      const w = i >= firstWrite ? writes[i - firstWrite] : undefined;
      if (w && reply === -3) missingPointer = true;
      else if (w && reply === -2) moved.push(w.memberId);
      else if (w && reply < 0) lost.push(w.memberId);
    });
    if (missingPointer) throw new StateLostError(this.worker, this.namespace, 'its live pointer is gone: Redis was flushed or restarted empty');
    if (moved.length > 0 || markRefused) throw new PointerMovedError(moved);
    if (lost.length > 0) throw new FencedWriteError(lost);
  }

  appliedMarksKey(): string {
    return appliedMarksKey(this.namespace, this.worker);
  }

  /** The applied marks (see commit): per topic:partition, the highest offset a batch may have published. */
  async appliedMarks(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.appliedMarksKey())));
  }

  projectionKey(name: string): string {
    return projectionKey(this.namespace, this.worker, name);
  }

  /** The commit script's arguments after the record: the pointer fence, then projection changes. */
  private fenceArgs(): [string, string] {
    return this.fence === null ? ['', ''] : [this.fence.key, String(this.fence.epoch)];
  }

  private commitArgs(w: MemberWrite<S>): Array<string | number> {
    const fence = this.fenceArgs();
    const p = w.projections;
    if (!p || p.upsert.length + p.remove.length === 0) return fence;
    const args: Array<string | number> = [...fence, p.upsert.length + p.remove.length];
    for (const r of p.remove) args.push('r', this.projectionKey(r.name), 0, r.member);
    for (const u of p.upsert) args.push('a', this.projectionKey(u.name), u.score, u.member);
    return args;
  }

  /** Every member of this worker and namespace with a state: for tools and demos, not the hot path. */
  async *scanStates(batch = 1000): AsyncGenerator<[string, S]> {
    const stream = this.redis.scanStream({ match: this.key('*'), count: batch });
    for await (const keys of stream as AsyncIterable<string[]>) {
      if (keys.length === 0) continue;
      const pipeline = this.redis.pipeline();
      for (const k of keys) pipeline.hget(k, 'r');
      const replies = (await pipeline.exec()) ?? [];
      for (let i = 0; i < keys.length; i++) {
        const r = replies[i]?.[1];
        const memberId = /\{u:(.*)\}$/.exec(keys[i]!)?.[1];
        const state = typeof r === 'string' ? fromJson<MemberRecord<S>>(r).state : null;
        if (memberId !== undefined && state !== null) yield [memberId, state];
      }
    }
  }

  async state(memberId: string): Promise<S | null> {
    const loaded = await this.load([memberId]);
    return loaded.get(memberId)?.record.state ?? null;
  }
}
