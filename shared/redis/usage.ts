/**
 * What a namespace costs Redis: MEMORY USAGE of every key, per worker, split by what each
 * byte is for (docs/BENCHMARKS.md, "Redis bytes per member"). Tools and benches only: it
 * scans the whole namespace.
 */
import { scanKeysByNode, type RedisClient } from './client.js';
import { namespacePattern, namespacePrefix } from './keys.js';

export interface WorkerMemory {
  /** Member (or item) records and their count. */
  records: number;
  /** MEMORY USAGE of the records: what Redis really holds for them, its own overhead included. */
  recordBytes: number;
  /** Of the records' payload: the encoded state ... */
  stateBytes: number;
  /** ... and the kernel's bookkeeping (header, watermarks, recent-id fingerprints). */
  kernelBytes: number;
  /** Outboxes still held (outputs of inputs whose offsets are not committed yet), keys and bytes. */
  outboxes: number;
  outboxBytes: number;
  /** Every other key of the worker (projections, timers, indexes, marks, journals), keys and bytes. */
  otherKeys: number;
  otherBytes: number;
  /** All of the worker's bytes per record. */
  bytesPerRecord: number;
}

export interface MemoryUse {
  /** Distinct members with a record of a member-keyed worker (reco-items records are items). */
  members: number;
  keys: number;
  bytes: number;
  /** All the namespace's bytes (items, projections and timers included) per member. */
  bytesPerMember: number;
  /** Bytes of the member-keyed workers' own keys per member (records, outboxes, other keys). */
  memberWorkersBytesPerMember: number;
  byWorker: Record<string, WorkerMemory>;
}

/** Workers whose `{u:<id>}` records are items, not members. */
const itemKeyedWorkers = new Set(['reco-items']);

/** Keys under `mf:<ns>:live:` are the workers' live pointers (and on a cluster their per-slot fences), not a worker's records. */
const notMemberWorkers = new Set([...itemKeyedWorkers, 'live']);

/** Sums MEMORY USAGE over the namespace's keys (`mf:<ns>:<worker>:...`). */
export async function memoryOfNamespace(redis: RedisClient, ns: string): Promise<MemoryUse> {
  const members = new Set<string>();
  const byWorker: Record<string, WorkerMemory> = {};
  let bytes = 0;
  let keys = 0;
  const prefix = namespacePrefix(ns);
  for await (const { node, keys: batch } of scanKeysByNode(redis, namespacePattern(ns), 2000)) {
    const pipeline = node.pipeline();
    for (const k of batch) {
      pipeline.memory('USAGE', k, 'SAMPLES', '0');
      pipeline.type(k);
      pipeline.getrange(k, 0, 40);
      pipeline.strlen(k);
    }
    const replies = (await pipeline.exec()) ?? [];
    batch.forEach((key, i) => {
      const size = Number(replies[4 * i]?.[1] ?? 0);
      const type = (replies[4 * i + 1]?.[1] as string | undefined) ?? ''; // TYPE answers a string
      const rest = key.slice(prefix.length);
      const worker = rest.split(':')[0] ?? '?';
      const w = (byWorker[worker] ??= {
        records: 0,
        recordBytes: 0,
        stateBytes: 0,
        kernelBytes: 0,
        outboxes: 0,
        outboxBytes: 0,
        otherKeys: 0,
        otherBytes: 0,
        bytesPerRecord: 0,
      });
      // A string record key answers STRLEN; others answer an error, read only for records.
      const recordId = new RegExp(`^${escape(worker)}:(?:\\{b\\d+\\})?\\{u:(.*)\\}$`, 's').exec(rest)?.[1];
      const header =
        type === 'string'
          ? /^\d+ (\d+) (\d+) [jc]\n/.exec((replies[4 * i + 2]?.[1] as string | undefined) ?? '')
          : null;
      if (recordId !== undefined && header) {
        w.records++;
        w.recordBytes += size;
        w.stateBytes += Number(header[1]);
        // The rest of the payload is the kernel's: its header, watermarks and fingerprints.
        w.kernelBytes += Number(replies[4 * i + 3]?.[1] ?? 0) - Number(header[1]);
        if (!itemKeyedWorkers.has(worker)) members.add(recordId);
      } else if (/^[^:]+:out:(?:\{b\d+\})?\{u:/.test(rest)) {
        w.outboxes++;
        w.outboxBytes += size;
      } else {
        w.otherKeys++;
        w.otherBytes += size;
      }
      bytes += size;
      keys++;
    });
  }
  let memberWorkerBytes = 0;
  for (const [worker, w] of Object.entries(byWorker)) {
    const all = w.recordBytes + w.outboxBytes + w.otherBytes;
    w.bytesPerRecord = w.records > 0 ? all / w.records : 0;
    if (!notMemberWorkers.has(worker)) memberWorkerBytes += all;
  }
  const n = members.size;
  return {
    members: n,
    keys,
    bytes,
    bytesPerMember: n > 0 ? bytes / n : 0,
    memberWorkersBytesPerMember: n > 0 ? memberWorkerBytes / n : 0,
    byWorker,
  };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
