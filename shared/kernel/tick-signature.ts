import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Rejection } from './types.js';

/**
 * Ticks move time for every member of a partition (points expire, tiers fall), so a tick on
 * a topic others may write (`activity.events`) must prove it comes from the ticker: it
 * carries an HMAC-SHA256 over its topic, partition and time, keyed with MEMBERFLOW_TICK_KEY,
 * which only the ticker and the workers hold. Kafka ACLs cannot forbid a header; they can
 * keep everyone but the workers from writing memberflow's own topics, whose forwarded ticks
 * are therefore trusted as they are.
 */
export const tickSignatureHeader = 'memberflow-tick-sig';

/** Dead-letter reasons of ticks refused on an upstream topic. */
export const tickRefusals = {
  /** A tick header without a signature, or a worker without a key to check one. */
  unsigned: 'unsigned_tick',
  /** A signature that does not match the tick's topic, partition and time (or an unreadable time). */
  forged: 'forged_tick',
  /** A signed tick further ahead of the broker's append time than MEMBERFLOW_TICK_MAX_AHEAD_MS (a LogAppendTime topic). */
  ahead: 'tick_ahead_of_append_time',
} as const;

/** MEMBERFLOW_TICK_MAX_AHEAD_MS's default: five minutes of clock difference between the ticker and the broker. */
export const defaultTickMaxAheadMs = 300_000;

/**
 * Why a signed tick is refused although its signature holds: on a LogAppendTime topic the record's
 * timestamp is the broker's clock, which no producer sets, and a tick may not run ahead of it by more
 * than `maxAheadMs` (a leaked or misused ticker key cannot expire everything at once). Null: accepted.
 */
export function tickAheadRefusal(time: number, appendTime: number, maxAheadMs: number): Rejection | null {
  if (time <= appendTime + maxAheadMs) return null;
  return {
    reason: tickRefusals.ahead,
    message: `the tick time is more than MEMBERFLOW_TICK_MAX_AHEAD_MS (${maxAheadMs} ms) after the broker's append time`,
  };
}

export function signTick(key: string, topic: string, partition: number, time: number): string {
  return createHmac('sha256', key).update(`${topic}\n${partition}\n${time}`).digest('hex');
}

/** Why a tick read from an upstream topic is refused, or null when its signature holds. */
export function tickRefusal(
  key: string | undefined,
  topic: string,
  partition: number,
  time: number | undefined,
  signature: string | undefined,
): Rejection | null {
  if (key === undefined || key === '')
    return {
      reason: tickRefusals.unsigned,
      message: 'a tick on an upstream topic needs a signature, and this worker has no MEMBERFLOW_TICK_KEY to check one',
    };
  if (signature === undefined || signature === '')
    return {
      reason: tickRefusals.unsigned,
      message: `a tick on an upstream topic must carry the ${tickSignatureHeader} header`,
    };
  if (time === undefined)
    return {
      reason: tickRefusals.forged,
      message: 'the tick time must be a non-negative integer of epoch milliseconds',
    };
  const expected = Buffer.from(signTick(key, topic, partition, time), 'hex');
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return {
      reason: tickRefusals.forged,
      message: `the ${tickSignatureHeader} signature does not match the tick's topic, partition and time`,
    };
  return null;
}
