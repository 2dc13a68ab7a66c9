/**
 * Ingress bounds of the behavior-events worker (README.md, "Ingress limits"). Pure: no
 * clock, no I/O. Messages name the field and the rule, never the value.
 */

/**
 * The id-like strings of an activity event, in the order they are checked. Each may become a
 * Kafka key (userId; referrerId on referrals), a Redis key (userId) or a member of bounded
 * state (refundOf, itemId, category), or is carried on every derived event. `plan` is free
 * text except on subscriptions, so it is bounded too; `type` is not (an unknown type is refused).
 */
export const idFields = [
  'eventId',
  'userId',
  'itemId',
  'category',
  'referrerId',
  'refundOf',
  'redeemOf',
  'rewardId',
  'source',
  'plan',
] as const;

export type IdField = (typeof idFields)[number];

/** True when `value` is a string longer than `maxBytes` in UTF-8 (a lone surrogate counts 3, as encoded). */
export function exceedsUtf8Bytes(value: unknown, maxBytes: number): value is string {
  if (typeof value !== 'string') return false;
  // Every UTF-16 unit encodes to 1..3 bytes: decide the obvious cases without encoding.
  if (value.length > maxBytes) return true;
  if (value.length * 3 <= maxBytes) return false;
  return Buffer.byteLength(value, 'utf8') > maxBytes;
}

/** The first id-like field over the bound, or null. Non-string values are the schema check's business. */
export function firstOverlongId(
  fields: Readonly<Record<string, unknown>>,
  maxBytes: number,
): { field: IdField; bytes: number } | null {
  for (const field of idFields) {
    const v = fields[field];
    if (exceedsUtf8Bytes(v, maxBytes)) return { field, bytes: Buffer.byteLength(v, 'utf8') };
  }
  return null;
}

export function idTooLongMessage(field: IdField, bytes: number, maxBytes: number): string {
  return `${field} is ${bytes} bytes of UTF-8, over behavior.maxIdBytes (${maxBytes})`;
}
