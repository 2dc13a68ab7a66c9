import type { Decoded, InputDecoder, InputRecord } from './types.js';

/**
 * Decoder trouble that a retry can cure: the registry answered with an error status or could
 * not be reached (a network error code). The batch is redone instead of refusing data.
 */
export function isTransientDecodeError(err: unknown): boolean {
  return (err as { status?: unknown }).status !== undefined || typeof (err as { code?: unknown }).code === 'string';
}

/**
 * Decodes one record; a decoder that throws anything else (a bug, or input that slipped past
 * its bounds) refuses that record with `processing_error` instead of stopping the partition:
 * one record never crashes a worker. The text names no value; the dead letter keeps the bytes.
 */
export async function decodeSafely<E>(
  decoder: InputDecoder<E>,
  record: InputRecord,
  onThrown: (err: Error) => void,
): Promise<Decoded<E>> {
  try {
    return await decoder.decode(record);
  } catch (err) {
    if (isTransientDecodeError(err)) throw err;
    onThrown(err instanceof Error ? err : new Error(String(err)));
    return {
      kind: 'rejected',
      rejection: {
        reason: 'processing_error',
        message: `the decoder could not read the record (${err instanceof Error ? err.name : 'non-error'} thrown)`,
      },
      eventId: null,
      memberId: null,
    };
  }
}
