import type { Rules } from '../../shared/config/rules.js';
import type { Decoded, InputDecoder, InputRecord } from '../../shared/kernel/types.js';
import { avroType } from '../../shared/contracts/schemas.js';
import { isConfluentFramed } from '../../shared/registry/codec.js';
import { parseEventTime } from '../../shared/util/time.js';
import type { ActivityEvent } from '../../shared/contracts/activity-event.js';
import { exceedsUtf8Bytes, firstOverlongId, idTooLongMessage } from './limits.js';
import { reasons } from './reasons.js';

/** The part of the registry the decoder needs: Avro bodies from schema ids. */
export interface AvroDecoder {
  decode(buffer: Buffer): Promise<unknown>;
}

type Rejected = Extract<Decoded<ActivityEvent>, { kind: 'rejected' }>;

/**
 * A refusal, with the ids the dead letter may carry: only non-empty strings within
 * `behavior.maxIdBytes`: an over-long id is not copied into the dead letter's eventId/userId
 * (nor used as its key; shared/kernel/dead-letter.ts then falls back to the record key).
 */
function reject(
  reason: string,
  message: string,
  ids: { eventId?: unknown; userId?: unknown } = {},
  maxIdBytes = Number.POSITIVE_INFINITY,
): Rejected {
  const usable = (v: unknown) => (typeof v === 'string' && v !== '' && !exceedsUtf8Bytes(v, maxIdBytes) ? v : null);
  return {
    kind: 'rejected',
    rejection: { reason, message },
    eventId: usable(ids.eventId),
    memberId: usable(ids.userId),
  };
}

const timeFields = ['occurredAt', 'periodEnd'] as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Input bytes to an ActivityEvent: Confluent-framed Avro or plain JSON, both
 * checked against schemas/activity.events.avsc. Only shape is checked here;
 * meaning (types, amounts, time skew) is the worker's decision.
 */
export class ActivityDecoder implements InputDecoder<ActivityEvent> {
  constructor(
    private readonly avro: AvroDecoder,
    private readonly rules: () => Rules,
  ) {}

  async decode(record: InputRecord): Promise<Decoded<ActivityEvent>> {
    const bytes = record.value;
    if (bytes === null || bytes.length === 0)
      return reject(reasons.emptyValue, 'record has no value (tombstone or empty)');
    const limit = this.rules().behavior.maxRecordBytes;
    if (bytes.length > limit)
      return reject(reasons.recordTooLarge, `record is ${bytes.length} bytes, limit is ${limit}`);

    let raw: unknown;
    if (isConfluentFramed(bytes)) {
      // The body is read by the writer's schema: its depth is the schema's, bounded by the registry's content.
      try {
        raw = await this.avro.decode(bytes);
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status === 404)
          return reject(reasons.unknownSchema, `schema id ${bytes.readUInt32BE(1)} is not in the registry`);
        if (status !== undefined || isNetworkError(err)) throw err; // registry trouble: retry the batch, do not refuse data
        return reject(
          reasons.schemaMismatch,
          `Avro body does not decode with its writer schema (id ${bytes.readUInt32BE(1)})`,
        );
      }
    } else {
      // Before anything recursive (the parser, the schema check, error texts) runs on it.
      const depth = jsonNestingDepth(bytes, maxJsonDepth);
      if (depth > maxJsonDepth)
        return reject(
          reasons.nestingTooDeep,
          `JSON value nests deeper than ${maxJsonDepth} levels (the activity schema needs 2)`,
        );
      let text: string;
      try {
        // JSON text is UTF-8 (RFC 8259): invalid bytes are refused, not silently replaced.
        text = utf8.decode(bytes);
      } catch {
        return reject(reasons.malformedJson, 'value is neither Confluent-framed Avro nor UTF-8 text');
      }
      try {
        raw = JSON.parse(text);
      } catch (err) {
        // The parser's message quotes the text: only its position is kept.
        const at = /position (\d+)/.exec((err as Error).message)?.[1];
        return reject(
          reasons.malformedJson,
          `value is neither Confluent-framed Avro nor JSON${at === undefined ? '' : ` (syntax error at byte ${at})`}`,
        );
      }
      // JSON.parse keeps the last of two equal keys: which one an upstream app meant is unknowable.
      const twice = duplicateKey(text);
      if (twice !== null)
        return reject(
          reasons.duplicateKey,
          `an object has the key ${schemaFieldNames.has(twice) ? twice : '(not a schema field)'} twice`,
        );
    }
    return validateShape(raw, record.key, this.rules().behavior.maxIdBytes);
  }
}

function isNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(ECONN|ETIMEDOUT|EAI_AGAIN|EPIPE|ENOTFOUND)/.test(code);
}

/**
 * Shape checks shared by the JSON and Avro paths; exported for unit tests. `maxIdBytes`
 * is `behavior.maxIdBytes` (the decoder always passes it; absent, ids are not bounded).
 * Id lengths are checked here, before the member is known: an over-long userId never
 * becomes a Redis key, and no member record is touched by the refusal.
 */
export function validateShape(
  raw: unknown,
  key: Buffer | null,
  maxIdBytes = Number.POSITIVE_INFINITY,
): Decoded<ActivityEvent> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return reject(reasons.schemaMismatch, 'value must be a JSON object');
  }
  const input = raw as Record<string, unknown>;
  const refuse = (reason: string, message: string) => reject(reason, message, input, maxIdBytes);
  const candidate: Record<string, unknown> = {};
  const type = avroType('activity.events') as unknown as { fields: { name: string; defaultValue(): unknown }[] };
  for (const field of type.fields) {
    const v = input[field.name];
    candidate[field.name] = v === undefined ? field.defaultValue() : v;
  }
  for (const f of timeFields) {
    const v = candidate[f];
    if (v === null || v === undefined) continue;
    const parsed = parseEventTime(v);
    if (parsed === null) {
      return refuse(
        reasons.invalidOccurredAt,
        `${f} must be epoch milliseconds or ISO-8601 with an offset, between 1970-01-01 and 9999-12-31, got ${kindOf(v)}`,
      );
    }
    candidate[f] = parsed;
  }
  if (typeof candidate.eventId !== 'string' || candidate.eventId.trim() === '') {
    return refuse(reasons.missingEventId, 'eventId must be a non-empty string');
  }
  if (typeof candidate.userId !== 'string' || candidate.userId.trim() === '') {
    return refuse(reasons.missingUserId, 'userId must be a non-empty string');
  }
  // Avro strings are UTF-8: a lone surrogate would be written as U+FFFD, another value than the one sent.
  const malformed = firstIllFormedString(candidate);
  if (malformed !== null)
    return refuse(reasons.schemaMismatch, `${malformed} must be well-formed Unicode (it holds a lone surrogate)`);
  const overlong = firstOverlongId(candidate, maxIdBytes);
  if (overlong) return refuse(reasons.idTooLong, idTooLongMessage(overlong.field, overlong.bytes, maxIdBytes));
  const problems: string[] = [];
  avroType('activity.events').isValid(candidate, {
    errorHook: (path, value, t) =>
      problems.push(`${path.join('.')}: expected ${describeType(t)}, got ${kindOf(value)}`),
  });
  if (problems.length > 0) return refuse(reasons.schemaMismatch, problems.slice(0, 5).join('; '));
  const userId = candidate.userId;
  const keyText = key?.toString('utf8') ?? null;
  if (keyText !== userId) {
    // Keyed by the record's own key, not the payload's userId: a record may not place dead letters on another member's partition.
    return reject(
      reasons.keyMismatch,
      `record key must be the userId so a member's events stay in order on one partition (key ${keyText === null ? 'missing' : 'differs'})`,
      { eventId: candidate.eventId },
      maxIdBytes,
    );
  }
  return { kind: 'event', memberId: userId, eventId: candidate.eventId, event: candidate as unknown as ActivityEvent };
}

/** What a value is, never what it says: error texts must not quote payloads. */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(v) ? 'an integer' : 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

/** Deepest nesting of arrays and objects in JSON text, counted without parsing; stops once past `limit`. */
export function jsonNestingDepth(bytes: Uint8Array, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c)
        i++; // backslash: the next byte is escaped
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return deepest;
}

const schemaFieldNames = new Set(
  (avroType('activity.events') as unknown as { fields: { name: string }[] }).fields.map((f) => f.name),
);

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isWellFormed = (s: string) => !loneSurrogate.test(s);

/** The first field whose string is not well-formed UTF-16, or null (the input schema's strings are all top-level). */
function firstIllFormedString(candidate: Record<string, unknown>): string | null {
  for (const [field, v] of Object.entries(candidate)) if (typeof v === 'string' && !isWellFormed(v)) return field;
  return null;
}

/**
 * The first key that appears twice in one object of valid JSON text, or null. A scan of the
 * text (depth already bounded): keys are the strings before a ':'; escapes are resolved by
 * JSON.parse of the key's own token, so "a" and "\u0061" are the same key.
 */
export function duplicateKey(text: string): string | null {
  const open: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      const keys = open[open.length - 1];
      if (text[j] === ':' && keys) {
        const token = text.slice(start + 1, i);
        const key = token.includes('\\') ? (JSON.parse(`"${token}"`) as string) : token;
        if (keys.has(key)) return key;
        keys.add(key);
      }
    } else if (c === 0x7b) open.push(new Set());
    else if (c === 0x5b) open.push(null);
    else if (c === 0x7d || c === 0x5d) open.pop();
  }
  return null;
}

/** Deepest JSON nesting accepted: the activity schema has an object holding arrays of strings. */
export const maxJsonDepth = 8;

function describeType(t: unknown): string {
  const name = (t as { typeName?: string; branchName?: string }).typeName ?? 'value';
  return name === 'union:unwrapped' ? 'null or a value of the field type' : name === 'long' ? 'an integer' : name;
}
