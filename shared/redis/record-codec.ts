/**
 * How a member record lies in Redis: one string per member and worker,
 *
 *   "<version> <stateBytes> <kernelBytes> <encoding>\n" <state> <kernel> <fingerprints>
 *
 * where <encoding> says how the state is encoded ('j' JSON, 'c' the worker's own codec: a
 * reader without that codec refuses the record instead of misreading it), <state> is the
 * encoded state (0 bytes: no state yet), <kernel> the
 * watermarks as JSON, and <fingerprints> the recent-id fingerprints, 8 raw bytes each. One
 * string costs Redis far less per member than a hash of fields; the version leads so the
 * commit script compares it from a short GETRANGE. The outbox lives beside it in a hash of
 * its own (see member-store.ts), emptied once the outputs' inputs are committed.
 */
import { fingerprintBytes } from '../kernel/member-record.js';

/** How a record's state is encoded: JSON, or the worker's own StateCodec. */
export type StateEncoding = 'j' | 'c';

export interface StoredRecord {
  version: number;
  encoding: StateEncoding;
  /** The state's storage text, or null for a member with no state yet. */
  state: string | null;
  watermarks: Record<string, string>;
  recentIds: string[];
}

/** The record without its version (the commit script prefixes the next one). */
export function encodeRecordBody(
  encoding: StateEncoding,
  state: string | null,
  watermarks: Record<string, string>,
  recentIds: readonly string[],
): Buffer {
  const stateBytes = state === null ? Buffer.alloc(0) : Buffer.from(state, 'utf8');
  const kernel = Buffer.from(JSON.stringify(watermarks), 'utf8');
  const ids = Buffer.alloc(recentIds.length * fingerprintBytes);
  recentIds.forEach((id, i) => ids.write(id, i * fingerprintBytes, fingerprintBytes, 'base64url'));
  return Buffer.concat([
    Buffer.from(`${stateBytes.length} ${kernel.length} ${encoding}\n`, 'latin1'),
    stateBytes,
    kernel,
    ids,
  ]);
}

export class RecordFormatError extends Error {
  override name = 'RecordFormatError';
  constructor(readonly key: string) {
    super(
      `member record at ${key} is not in the expected format (written by an older memberflow? rebuild this worker's state)`,
    );
  }
}

/** Parses a stored record; null input means no record. */
export function decodeRecord(raw: Buffer | null, key: string): StoredRecord | null {
  if (raw === null) return null;
  const newline = raw.indexOf(10);
  const header = newline > 0 ? /^(\d+) (\d+) (\d+) ([jc])$/.exec(raw.toString('latin1', 0, newline)) : null;
  if (!header) throw new RecordFormatError(key);
  const stateLength = Number(header[2]);
  const kernelLength = Number(header[3]);
  const stateStart = newline + 1;
  const kernelStart = stateStart + stateLength;
  const idsStart = kernelStart + kernelLength;
  if (idsStart > raw.length || (raw.length - idsStart) % fingerprintBytes !== 0) throw new RecordFormatError(key);
  const recentIds: string[] = [];
  for (let at = idsStart; at < raw.length; at += fingerprintBytes)
    recentIds.push(raw.toString('base64url', at, at + fingerprintBytes));
  return {
    version: Number(header[1]),
    encoding: header[4] as StateEncoding,
    state: stateLength === 0 ? null : raw.toString('utf8', stateStart, kernelStart),
    watermarks: JSON.parse(raw.toString('utf8', kernelStart, idsStart)) as Record<string, string>,
    recentIds,
  };
}
