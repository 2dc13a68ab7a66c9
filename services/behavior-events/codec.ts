/**
 * Storage encoding of MemberProfile: a positional JSON array instead of an object, and the
 * refundable payments flattened with each id stored as what it shares with the previous one.
 * Payment ids of one order usually differ in their last characters ("or:538053:0",
 * "or:538053:1"), and the list holds up to 256 of them: it is most of a profile's bytes.
 * JSON escaping keeps every id exact whatever characters it holds.
 *
 *   [firstSeenAt, lastActivityAt, signedUpAt, referrerId, purchaseCount, totalSpendFen,
 *    learningCount, activeDays, recentDays, recentCategories, subscription, refundable,
 *    refundableTruncated, stage, tags, dailyEvents]
 *
 * - subscription: [plan, periodEnd] or null;
 * - refundable: flat [shared, rest, fen, …]: the id is the previous id's first `shared`
 *   UTF-16 units followed by `rest`;
 * - refundableTruncated: 0 or 1; dailyEvents: flat [day, count, …].
 *
 * States stored as JSON objects before this encoding are still read (`decode` tells the two
 * apart by the first character).
 */
import { jsonSizeBound } from '../../shared/kernel/json-size-bound.js';
import type { StateCodec } from '../../shared/kernel/types.js';
import type { LifecycleStage, MemberProfile, ProfileTag } from './profile.js';

type Packed = [
  firstSeenAt: number | null,
  lastActivityAt: number | null,
  signedUpAt: number | null,
  referrerId: string | null,
  purchaseCount: number,
  totalSpendFen: number,
  learningCount: number,
  activeDays: number,
  recentDays: number[],
  recentCategories: string[],
  subscription: [plan: string, periodEnd: number] | null,
  refundable: (number | string)[],
  refundableTruncated: 0 | 1,
  stage: LifecycleStage,
  tags: ProfileTag[],
  dailyEvents: number[],
];

function sharedPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function packRefundable(list: readonly [string, number][]): (number | string)[] {
  const flat: (number | string)[] = [];
  let previous = '';
  for (const [id, fen] of list) {
    const shared = sharedPrefix(previous, id);
    flat.push(shared, id.slice(shared), fen);
    previous = id;
  }
  return flat;
}

function unpackRefundable(flat: readonly (number | string)[]): [string, number][] {
  const list: [string, number][] = [];
  let previous = '';
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const id = previous.slice(0, flat[i] as number) + (flat[i + 1] as string);
    list.push([id, flat[i + 2] as number]);
    previous = id;
  }
  return list;
}

export function encodeProfile(p: MemberProfile): string {
  const packed: Packed = [
    p.firstSeenAt,
    p.lastActivityAt,
    p.signedUpAt,
    p.referrerId,
    p.purchaseCount,
    p.totalSpendFen,
    p.learningCount,
    p.activeDays,
    p.recentDays,
    p.recentCategories,
    p.subscription === null ? null : [p.subscription.plan, p.subscription.periodEnd],
    packRefundable(p.refundable),
    p.refundableTruncated ? 1 : 0,
    p.stage,
    p.tags,
    (p.dailyEvents ?? []).flat(),
  ];
  return JSON.stringify(packed);
}

export function decodeProfile(text: string): MemberProfile {
  if (text.startsWith('{')) return JSON.parse(text) as MemberProfile;
  const packed: unknown = JSON.parse(text);
  if (!Array.isArray(packed) || packed.length !== 16)
    throw new Error('behavior-events state: not in the expected encoding');
  const [
    firstSeenAt,
    lastActivityAt,
    signedUpAt,
    referrerId,
    purchaseCount,
    totalSpendFen,
    learningCount,
    activeDays,
    recentDays,
    recentCategories,
    subscription,
    refundable,
    truncated,
    stage,
    tags,
    daily,
  ] = packed as Packed;
  const dailyEvents: [number, number][] = [];
  for (let i = 0; i + 1 < daily.length; i += 2) dailyEvents.push([daily[i]!, daily[i + 1]!]);
  return {
    firstSeenAt,
    lastActivityAt,
    signedUpAt,
    referrerId,
    purchaseCount,
    totalSpendFen,
    learningCount,
    activeDays,
    recentDays,
    recentCategories,
    subscription: subscription === null ? null : { plan: subscription[0], periodEnd: subscription[1] },
    refundable: unpackRefundable(refundable),
    refundableTruncated: truncated === 1,
    stage,
    tags,
    dailyEvents,
  };
}

/**
 * The packed form holds no value the profile does not and drops its keys; a refundable entry
 * costs at most what `["id",fen]` does (the shared count replaces the brackets, and past 9
 * shared units it saves more than its digits). So the profile's own JSON bound bounds it.
 */
export const profileSizeBound = (p: MemberProfile, stopAbove: number): number => jsonSizeBound(p, stopAbove);

export const profileCodec: StateCodec<MemberProfile> = {
  encode: encodeProfile,
  decode: decodeProfile,
  sizeBound: profileSizeBound,
};
