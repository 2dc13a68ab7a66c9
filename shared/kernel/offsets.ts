/**
 * Kafka offsets are 64-bit decimal strings; compare them without losing precision. The kernel
 * compares offsets per record: canonical non-negative ones (no sign, no leading zero) order by
 * length, then by text, without a BigInt each; anything else (-1 for "none", odd spellings) by value.
 */
export function compareOffsets(a: string, b: string): number {
  if (isCanonical(a) && isCanonical(b)) {
    if (a.length !== b.length) return a.length < b.length ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

export function topicPartitionId(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

function isCanonical(offset: string): boolean {
  const first = offset.charCodeAt(0);
  return first >= 49 /* 1 */ && first <= 57 /* 9 */ ? true : offset === '0';
}
