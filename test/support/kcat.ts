import { execFileSync } from 'node:child_process';

/** What a reader outside memberflow's code sees on a topic: records, and records per `memberflow-event-id`. */
export interface EventIdCount {
  records: number;
  distinct: number;
  /** Records beyond the first of their id. */
  duplicates: number;
}

/**
 * Counts a topic's records by their `memberflow-event-id` header with kcat (librdkafka), an
 * independent client, at the given isolation level: `read_committed` is what a notification
 * service reads; `read_uncommitted` also shows the copies of aborted transactions.
 */
export function countEventIds(
  brokers: string,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted',
): EventIdCount {
  const out = execFileSync(
    'kcat',
    [
      '-C',
      '-b',
      brokers,
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-X',
      `isolation.level=${isolation}`,
      '-f',
      '%h\n',
    ],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      timeout: 300_000,
    },
  );
  const ids = new Map<string, number>();
  let records = 0;
  for (const line of out.split('\n')) {
    if (line === '') continue;
    records++;
    const id = /(?:^|,)memberflow-event-id=([^,]*)/.exec(line)?.[1] ?? `(no id) ${records}`;
    ids.set(id, (ids.get(id) ?? 0) + 1);
  }
  return { records, distinct: ids.size, duplicates: records - ids.size };
}
