/** Kafka offsets are 64-bit decimal strings; compare them without losing precision. */
export function compareOffsets(a: string, b: string): number {
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
