/**
 * Fenced-producer errors: librdkafka's codes for them, and the kafkajs-typed error the runtime asks for.
 */
import type { ConfluentKafkaJS } from './library.js';

/** librdkafka's codes for a producer another owner fenced (or whose epoch the broker no longer knows). */
export function fencedCodes(api: Pick<ConfluentKafkaJS, 'ErrorCodes'>): ReadonlySet<number> {
  return new Set(
    [api.ErrorCodes.ERR__FENCED, api.ErrorCodes.ERR_PRODUCER_FENCED, api.ErrorCodes.ERR_INVALID_PRODUCER_EPOCH].filter(
      (c): c is number => c !== undefined,
    ),
  );
}

/**
 * librdkafka says "fenced" by code (its errors carry a type of their own, such as ERR__FENCED); the
 * runtime asks by kafkajs' type (transactions.ts isFencedProducerError): a fenced error is wrapped
 * in one of type PRODUCER_FENCED, the original as its cause. Any other error passes unchanged.
 */
export function asKafkajsFenced(err: unknown, fenced: ReadonlySet<number>): unknown {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code !== 'number' || !fenced.has(code)) return err;
  return Object.assign(new Error(`producer fenced: ${(err as Error).message}`, { cause: err }), {
    name: 'KafkaJSProtocolError',
    type: 'PRODUCER_FENCED',
  });
}
