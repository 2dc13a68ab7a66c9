/**
 * Rejection reason codes of the behavior-events worker. They are part of the
 * contract (dead-letter consumers switch on them): add codes, never rename.
 */
export const reasons = {
  // bytes and schema (decoder)
  emptyValue: 'empty_value',
  recordTooLarge: 'record_too_large',
  malformedJson: 'malformed_json',
  /** JSON nested deeper than decode.ts maxJsonDepth: refused before it is parsed. */
  nestingTooDeep: 'nesting_too_deep',
  /** A JSON object with the same key twice (JSON.parse would keep the last silently). */
  duplicateKey: 'duplicate_key',
  schemaMismatch: 'schema_mismatch',
  unknownSchema: 'unknown_schema',
  invalidOccurredAt: 'invalid_occurred_at',
  missingEventId: 'missing_event_id',
  missingUserId: 'missing_user_id',
  keyMismatch: 'key_mismatch',
  /** An id-like string over `behavior.maxIdBytes` UTF-8 bytes (limits.ts). */
  idTooLong: 'id_too_long',
  // meaning (decide)
  unknownType: 'unknown_type',
  missingField: 'missing_field',
  invalidAmount: 'invalid_amount',
  amountAboveCeiling: 'amount_above_ceiling',
  invalidPoints: 'invalid_points',
  invalidPlan: 'invalid_plan',
  invalidPeriod: 'invalid_period',
  invalidSeconds: 'invalid_seconds',
  occurredInFuture: 'occurred_in_future',
  refundWithoutOriginal: 'refund_without_original',
  refundExceedsOriginal: 'refund_exceeds_original',
  refundUnknownOriginal: 'refund_unknown_original',
  selfReferral: 'self_referral',
  /** The member already has `behavior.maxEventsPerMemberPerDay` accepted events on the event's local day. */
  dailyEventLimit: 'daily_event_limit',
} as const;

export type ReasonCode = (typeof reasons)[keyof typeof reasons];
