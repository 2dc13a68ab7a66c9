import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { emptyRecord, type MemberRecord } from '../kernel/member-record.js';
import { fromJson, toJson } from '../util/json.js';
import { memberKey } from './keys.js';

const commitScript = readFileSync(new URL('./lua/commit-member.lua', import.meta.url), 'utf8');
/** Versioned command name: a changed script never collides with an older one loaded in Redis. */
const commitCommand = 'mfCommitMemberV1';

type RedisWithCommands = Redis & {
  [commitCommand]: (key: string, expectedVersion: string, record: string) => Promise<number>;
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
  ) {
    if (!(commitCommand in redis)) {
      redis.defineCommand(commitCommand, { numberOfKeys: 1, lua: commitScript });
    }
    this.redis = redis as RedisWithCommands;
  }

  key(memberId: string): string {
    return memberKey(this.namespace, this.worker, memberId);
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

  /** Writes all records in one pipeline; throws FencedWriteError naming the members that lost the race. */
  async commit(writes: readonly MemberWrite<S>[]): Promise<void> {
    if (writes.length === 0) return;
    const pipeline = this.redis.pipeline() as unknown as RedisWithCommands & { exec(): Promise<[Error | null, unknown][] | null> };
    for (const w of writes) pipeline[commitCommand](this.key(w.memberId), String(w.expectedVersion), toJson(w.record));
    const replies = (await pipeline.exec()) ?? [];
    const lost: string[] = [];
    writes.forEach((w, i) => {
      const [err, value] = replies[i] ?? [new Error('missing reply'), null];
      if (err) throw err;
      if (Number(value) < 0) lost.push(w.memberId);
    });
    if (lost.length > 0) throw new FencedWriteError(lost);
  }

  async state(memberId: string): Promise<S | null> {
    const loaded = await this.load([memberId]);
    return loaded.get(memberId)?.record.state ?? null;
  }
}
