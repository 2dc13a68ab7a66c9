/**
 * Storage encoding of RecoItemState: one positional JSON array instead of an object, the
 * co-item list flattened at its tail.
 *
 *   [n, category, evictions, [partition, offset, …], coItem, Δcount, [count − error,] …]
 *
 * - A co-entry starts at each string and takes the numbers after it (one: [id, count], two:
 *   [id, count, error]): ids are always strings and counts numbers, so entries need no
 *   brackets of their own.
 * - Δcount is the drop from the previous entry's count (the first entry's count as is): the
 *   list is sorted by count descending, so a hot item's 4-digit counts become 0s and 1s.
 *   An evicted-into entry stores its lower bound count − error, small where the error is
 *   large.
 * - `applied` is sorted by partition so equal states encode equally.
 *
 * Differences are exact only between safe integers: a state with a count or error that is
 * not an integer within ±2^52 is stored as plain JSON (an object, told apart by its first
 * character). JSON escaping keeps ids and categories exact whatever characters they hold.
 */
import { jsonSizeBound } from '../../shared/kernel/json-size-bound.js';
import type { StateCodec } from '../../shared/kernel/types.js';
import { compareIds, type ItemStateJson } from '../../shared/reco/cooccurrence.js';
import type { RecoItemState } from './item-state.js';

type CoEntry = ItemStateJson['co'][number];
type Packed = [
  n: number,
  category: string | null,
  evictions: number,
  applied: Array<string | number>,
  ...co: Array<string | number>,
];

const deltaSafe = (x: number) => Number.isSafeInteger(x) && Math.abs(x) <= 2 ** 52;

export function encodeRecoItemState(s: RecoItemState): string {
  if (!s.co.every(([, count, error = 0]) => deltaSafe(count) && deltaSafe(error))) return JSON.stringify(s);
  const applied = Object.keys(s.applied)
    .sort(compareIds)
    .flatMap((k) => [k, s.applied[k]!]);
  let prev = 0;
  const co = s.co.flatMap(([id, count, error], i) => {
    const drop = i === 0 ? count : prev - count;
    prev = count;
    return error === undefined ? [id, drop] : [id, drop, count - error];
  });
  const packed: Packed = [s.n, s.category, s.evictions, applied, ...co];
  return JSON.stringify(packed);
}

/** The flat tail back into entries: a new one at each string, counts summed back from their drops. */
function unpackCo(flat: ReadonlyArray<string | number>): CoEntry[] {
  const out: CoEntry[] = [];
  let prev = 0;
  for (let i = 0; i < flat.length;) {
    const id = flat[i++];
    const nums: number[] = [];
    while (i < flat.length && typeof flat[i] === 'number') nums.push(flat[i++] as number);
    if (typeof id !== 'string' || nums.length < 1 || nums.length > 2)
      throw new Error('reco-items state: malformed co-item list');
    const count = out.length === 0 ? nums[0]! : prev - nums[0]!;
    prev = count;
    out.push(nums.length === 1 ? [id, count] : [id, count, count - nums[1]!]);
  }
  return out;
}

export function decodeRecoItemState(text: string): RecoItemState {
  if (text.startsWith('{')) return JSON.parse(text) as RecoItemState;
  const packed: unknown = JSON.parse(text);
  if (!Array.isArray(packed) || packed.length < 4 || !Array.isArray(packed[3]))
    throw new Error('reco-items state: not in the expected encoding');
  const [n, category, evictions, applied, ...co] = packed as Packed;
  const entries: [string, number][] = [];
  for (let i = 0; i < applied.length; i += 2) entries.push([String(applied[i]), Number(applied[i + 1])]);
  return { n, category, co: unpackCo(co), evictions, applied: Object.fromEntries(entries) };
}

/** The packed form holds the state's values without its keys and inner brackets: the state's JSON bound and slack bound it. */
export const recoItemStateSizeBound = (s: RecoItemState, stopAbove: number): number => jsonSizeBound(s, stopAbove) + 32;

export const recoItemStateCodec: StateCodec<RecoItemState> = {
  encode: encodeRecoItemState,
  decode: decodeRecoItemState,
  sizeBound: recoItemStateSizeBound,
};
