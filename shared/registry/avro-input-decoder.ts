import { isTransientDecodeError } from '../kernel/decode-safely.js';
import type { Decoded, InputDecoder, InputRecord } from '../kernel/types.js';
import { isConfluentFramed } from './codec.js';

/** The registry calls a decoder needs. */
export interface AvroBodyDecoder {
  decode(buffer: Buffer): Promise<unknown>;
}

type Rejected = Extract<Decoded<never>, { kind: 'rejected' }>;
const reject = (
  reason: string,
  message: string,
  eventId: string | null = null,
  memberId: string | null = null,
): Rejected => ({
  kind: 'rejected',
  rejection: { reason, message },
  eventId,
  memberId,
});

/**
 * Decodes records of one of our own Avro topics (e.g. behavior.events for the
 * points worker). They were validated upstream, so failures here mean a bug or
 * a foreign producer: refused with a reason, never thrown, except registry
 * outages, which are retried rather than turned into dead letters.
 */
export class AvroInputDecoder<T extends { eventId: string }> implements InputDecoder<T> {
  /**
   * `keyField`: the value field the record key must equal, and whose owner keeps the state
   * (the member's userId, or the itemId of an item-keyed topic).
   */
  constructor(
    private readonly registry: AvroBodyDecoder,
    private readonly keyField: string = 'userId',
  ) {}

  async decode(record: InputRecord): Promise<Decoded<T>> {
    const bytes = record.value;
    if (bytes === null || bytes.length === 0) return reject('empty_value', 'record has no value');
    if (!isConfluentFramed(bytes)) return reject('schema_mismatch', 'expected Confluent-framed Avro');
    let value: T;
    try {
      value = (await this.registry.decode(bytes)) as T;
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 404) return reject('unknown_schema', `schema id ${bytes.readUInt32BE(1)} is not in the registry`);
      if (isTransientDecodeError(err)) throw err; // registry trouble: retried, never a dead letter
      return reject(
        'schema_mismatch',
        `Avro body does not decode with its writer schema (id ${bytes.readUInt32BE(1)})`,
      );
    }
    const key = record.key?.toString('utf8') ?? null;
    const owner = (value as Record<string, unknown>)[this.keyField];
    const ownerId = typeof owner === 'string' ? owner : null;
    if (ownerId === null || key !== ownerId)
      return reject('key_mismatch', `record key must be the ${this.keyField}`, value.eventId, ownerId);
    return { kind: 'event', memberId: ownerId, eventId: value.eventId, event: value };
  }
}
