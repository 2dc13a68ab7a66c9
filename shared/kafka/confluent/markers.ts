/**
 * Transaction markers: which gap at a partition's end holds no record for us, so the worker may commit past it.
 */

interface Tail {
  /** Offset of the last record librdkafka handed over since the assignment (it may still wait in the client's cache). */
  read: bigint | null;
  /** Highest offset resolved by a batch that then returned: committed by run-worker. */
  processed: bigint | null;
  /** End of partition reported after the last record read, not yet acted on. */
  end: bigint | null;
  inFlight: number;
}

/** A gap at the end of a partition that holds no record for us, to commit past. */
export interface MarkerGap {
  topic: string;
  partition: number;
  end: bigint;
  /** The last record read before the gap; null when none was read since the assignment (the gap then starts at the committed offset). */
  after: bigint | null;
}

export interface BatchToken {
  generation: number;
  tail: Tail;
  topic: string;
  partition: number;
}

/**
 * Where a partition's end lies past the last record read, and whether the records before it are done.
 * librdkafka delivers records, and end-of-partition events, in log order; transaction markers and
 * aborted records are skipped without a trace but still advance the position. So when an end E
 * arrives after record R was the last read, offsets R+1..E-1 hold nothing for this consumer; once
 * R is processed (and committed), committing E is what kafkajs does for a markers-only fetch.
 * A rebalance starts over (records and ends of the old assignment say nothing about the new one).
 */
export class MarkerTracker {
  private tails = new Map<string, Tail>();
  private generation = 0;

  private tail(topic: string, partition: number): Tail {
    const k = `${topic}#${partition}`;
    let t = this.tails.get(k);
    if (!t) this.tails.set(k, (t = { read: null, processed: null, end: null, inFlight: 0 }));
    return t;
  }

  rebalanced(): void {
    this.generation++;
    this.tails = new Map();
  }

  record(topic: string, partition: number, offset: number | bigint): void {
    const t = this.tail(topic, partition);
    t.read = BigInt(offset);
    t.end = null;
  }

  endOfPartition(topic: string, partition: number, offset: number | bigint): MarkerGap | null {
    this.tail(topic, partition).end = BigInt(offset);
    return this.due(topic, partition);
  }

  batchStarted(topic: string, partition: number): BatchToken {
    const tail = this.tail(topic, partition);
    tail.inFlight++;
    return { generation: this.generation, tail, topic, partition };
  }

  /** `resolved`: the highest offset the batch resolved, when it returned normally (null when it threw or resolved none). */
  batchEnded(token: BatchToken, resolved: bigint | null): MarkerGap | null {
    token.tail.inFlight--;
    if (token.generation !== this.generation) return null;
    if (resolved !== null && (token.tail.processed === null || resolved > token.tail.processed))
      token.tail.processed = resolved;
    return this.due(token.topic, token.partition);
  }

  private due(topic: string, partition: number): MarkerGap | null {
    const t = this.tail(topic, partition);
    if (t.end === null || t.inFlight > 0) return null;
    if (t.read !== null && t.processed !== t.read) return null;
    const end = t.end;
    t.end = null;
    if (t.read !== null && end <= t.read + 1n) return null;
    return { topic, partition, end, after: t.read };
  }
}
