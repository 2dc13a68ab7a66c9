import type { Rules } from '../config/rules.js';
import {
  OutputPublisher,
  createProducer,
  createWorkerConsumer,
  deliveryOf,
  kafkaClientOf,
  logAppendTimeTopics,
  partitionCounter,
  type WorkerBatchPayload,
} from '../kafka/client.js';
import {
  isFencedProducerError,
  PartitionFencedError,
  PartitionTransactions,
  type PartitionTransaction,
} from '../kafka/transactions.js';
import {
  consumerGroup,
  isOnlyCopy,
  logicalFromPhysical,
  physicalTopic,
  writtenByMemberflow,
} from '../contracts/topics.js';
import { defaultTickMaxAheadMs, tickAheadRefusal, tickRefusal, tickSignatureHeader } from '../kernel/tick-signature.js';
import { MemberStore, type PointerFence } from '../redis/member-store.js';
import { BatchProcessor, emptyReport } from './batch-processor.js';
import { checkCommittedEnds, dropCommitted, groupHasCommitted, sweepCommittedOutboxes } from './committed.js';
import { membershipError } from './membership.js';
import { accumulate, type RunningWorker, type WorkerRuntimeOptions, type WorkerTotals } from './worker-options.js';
import { failpointFromSpec } from '../kernel/failpoints.js';
import {
  claimLivePointer,
  readLivePointer,
  readLivePointerIfAny,
  rulesOf,
  StateLostError,
  type LivePointer,
} from '../redis/live-pointer.js';
import { tickHeader, tickTimeFromHeader } from '../kernel/ticks.js';
import { defaultLimits } from '../kernel/member-record.js';
import { compareOffsets, nextOffset } from '../kernel/offsets.js';
import type { InputRecord } from '../kernel/types.js';

export { defaultLimits };

/** Where one generation of a worker reads, keeps state and writes. */
interface Placement {
  inputNamespace: string;
  outputNamespace: string;
  stateNamespace: string;
  rules: Rules;
  fence: PointerFence | null;
}

const pointerPollMs = 1_000;

/**
 * Runs a worker: one consumer group, batches per partition with heartbeats,
 * the batch processor in the middle, offsets committed last. With `followPointer`,
 * one generation per live-pointer epoch.
 */
export async function runWorker<S, E, V = unknown>(opts: WorkerRuntimeOptions<S, E, V>): Promise<RunningWorker> {
  const totals: WorkerTotals = {
    records: 0,
    applied: 0,
    rejected: 0,
    duplicate: 0,
    redelivered: 0,
    undecodable: 0,
    outputs: 0,
    rejections: {},
    firstBatchStartedAt: null,
    lastBatchEndedAt: null,
    generations: 0,
  };
  let resolveFailed!: (e: Error) => void;
  const failed = new Promise<Error>((r) => (resolveFailed = r));
  const fixed: Placement = {
    inputNamespace: opts.inputNamespace ?? opts.namespace,
    outputNamespace: opts.namespace,
    stateNamespace: opts.stateNamespace ?? opts.namespace,
    rules: opts.rules,
    fence: opts.fence ?? null,
  };
  if (!opts.followPointer) {
    // A fenced run (a rebuild, a promote finishing the old generation) whose epoch ends can do nothing more: it fails.
    const moved = () =>
      resolveFailed(
        new Error(
          `the live pointer of ${opts.worker.name} moved on while this run wrote under epoch ${opts.fence?.epoch ?? '?'}: stopped`,
        ),
      );
    const gen = await startGeneration(opts, fixed, totals, resolveFailed, moved);
    return { totals, failed, reachedEnd: gen.reachedEnd, group: () => gen.group, stop: () => gen.stop() };
  }

  const wlog = opts.log.child({ worker: opts.worker.name, namespace: opts.namespace });
  const placementOf = (p: LivePointer): Placement => ({
    inputNamespace: opts.namespace,
    outputNamespace: opts.namespace,
    stateNamespace: p.namespace,
    rules: rulesOf(p, opts.rules),
    fence: { topicNamespace: opts.namespace, worker: opts.worker.name, epoch: p.epoch },
  });
  /** The pointer once it is live again; null when this process is stopping meanwhile (a promote may never finish). */
  const waitLive = async (): Promise<LivePointer | null> => {
    for (;;) {
      const p = await readLivePointer(opts.redis, opts.namespace, opts.worker.name);
      if (p.phase === 'live') return p;
      if (stopping) return null;
      await sleep(pointerPollMs / 4);
    }
  };
  let stopping = false;
  await claimLivePointer(opts.redis, opts.namespace, opts.worker.name, () =>
    groupHasCommitted(
      opts.kafka,
      consumerGroup(opts.namespace, opts.worker.name),
      opts.worker.inputs.map((t) => physicalTopic(opts.namespace, t)),
    ),
  );
  const first = await waitLive();
  if (first === null) throw new Error('stopped before it started'); // stopping is only set by stop(), which needs the worker returned below
  let pointer: LivePointer = first;
  let switching: Promise<void> | null = null;
  let lost: StateLostError | null = null;
  let gen: Generation;
  const switchGeneration = (): Promise<void> =>
    (switching ??= (async () => {
      wlog.warn({ from: pointer.namespace, epoch: pointer.epoch }, 'live pointer moved: stopping this generation');
      await gen.stop();
      if (stopping) return;
      const next = await waitLive();
      if (next === null) return;
      pointer = next;
      wlog.warn({ to: pointer.namespace, epoch: pointer.epoch }, 'continuing on the promoted state');
      gen = await startGeneration(opts, placementOf(pointer), totals, resolveFailed, onMoved);
    })().finally(() => (switching = null)));
  const onMoved = (): void => void switchGeneration();
  gen = await startGeneration(opts, placementOf(pointer), totals, resolveFailed, onMoved);
  const poll = setInterval(() => {
    if (stopping || switching || lost) return;
    readLivePointerIfAny(opts.redis, opts.namespace, opts.worker.name)
      .then((p) => {
        if (p === null) {
          if (lost) return;
          lost = new StateLostError(
            opts.worker.name,
            opts.namespace,
            'its live pointer is gone: Redis was flushed or restarted empty',
          );
          wlog.fatal({ err: lost }, "Redis lost this worker's data: stopping");
          void gen.stop().finally(() => resolveFailed(lost!));
        } else if (p.epoch !== pointer.epoch || p.phase !== 'live') onMoved();
      })
      .catch((err: unknown) => wlog.warn({ err }, 'could not read the live pointer'));
  }, pointerPollMs);
  return {
    totals,
    failed,
    reachedEnd: new Promise<void>(() => undefined),
    group: () => gen.group,
    async stop() {
      stopping = true;
      clearInterval(poll);
      if (switching) await switching;
      await gen.stop();
    },
  };
}

interface Generation {
  group: string;
  reachedEnd: Promise<void>;
  stop(): Promise<void>;
}

async function startGeneration<S, E, V>(
  opts: WorkerRuntimeOptions<S, E, V>,
  place: Placement,
  totals: WorkerTotals,
  onFailed: (e: Error) => void,
  onPointerMoved: () => void,
): Promise<Generation> {
  const { worker, kafka, log } = opts;
  const group = consumerGroup(place.stateNamespace, worker.name);
  const wlog = log.child({ worker: worker.name, namespace: place.outputNamespace, state: place.stateNamespace });
  let producer = createProducer(kafka);
  await producer.connect();
  const renewProducer = async () => {
    const stale = producer;
    producer = createProducer(kafka);
    await producer.connect();
    await stale.disconnect().catch(() => undefined);
    wlog.warn("Kafka refused the producer's sequence numbers: a new producer takes over, the batch is redone");
    return producer;
  };
  const store = new MemberStore<S>(opts.redis, place.stateNamespace, worker, place.fence);
  const partitions = partitionCounter(kafka);
  const publisher = new OutputPublisher(producer, opts.codec, place.outputNamespace, partitions.of, renewProducer);
  const limits = { ...defaultLimits(place.rules), ...opts.limits };
  const failpoint = failpointFromSpec(opts.failpoint);
  const loadView = worker.view?.({ redis: opts.redis, namespace: place.stateNamespace, rules: place.rules });
  const publishFrom = opts.publishFrom;
  const alreadyPublished =
    publishFrom && publishFrom.size > 0
      ? (r: InputRecord) => {
          const from = publishFrom.get(`${r.topic}#${r.partition}`);
          return from !== undefined && compareOffsets(r.offset, from) < 0;
        }
      : undefined;
  const processor = new BatchProcessor({
    logic: worker,
    decoder: opts.decoder,
    store,
    publisher,
    rules: () => place.rules,
    limits,
    log: wlog,
    failpoint,
    forwardTicksTo: worker.forwardTicksTo,
    loadView,
    alreadyPublished,
  });
  const txnOptions = opts.transactions ?? deliveryOf(kafka);
  const transactions = txnOptions ? new PartitionTransactions(kafka, group, wlog, txnOptions.timeoutMs) : null;
  // kafkajs or confluent (MEMBERFLOW_KAFKA_CLIENT), behind the same interface: kafka/client.ts.
  const consumer = createWorkerConsumer(kafka, {
    groupId: group,
    sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.floor((opts.sessionTimeoutMs ?? 30_000) / 3)),
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 1_048_576,
    ...(opts.fetchMinBytes !== undefined ? { fetchMinBytes: opts.fetchMinBytes } : {}),
    ...(opts.fetchMaxWaitMs !== undefined ? { fetchMaxWaitMs: opts.fetchMaxWaitMs } : {}),
    fromBeginning: opts.fromBeginning ?? true,
  });
  totals.generations++;
  await consumer.connect();
  // A broker failover can fail the consumer many times before the group is back: say so once per outage.
  let failing = false;
  consumer.onGroupJoin((assignment) => {
    transactions?.joined();
    if (failing) {
      wlog.info('consumer back in its group');
      opts.observer?.consumerFailing(false);
    }
    failing = false;
    opts.observer?.joined(assignment);
  });
  consumer.onCrash((error, restart) => {
    if (restart) {
      if (!failing) {
        wlog.warn({ err: error }, 'consumer failed; it restarts with a backoff until the cluster answers');
        opts.observer?.consumerFailing(true);
      }
      failing = true;
      return;
    }
    opts.observer?.consumerFailing(true);
    wlog.fatal({ err: error }, 'consumer stopped for good');
    onFailed(error);
  });
  const inputs = worker.inputs.map((t) => physicalTopic(place.inputNamespace, t));
  // kafkajs says per record whether its timestamp is the broker's append time; for the confluent client it is
  // read from the input topics' config once (a LogAppendTime topic bounds its signed ticks by that time).
  const appendTimeTopics =
    kafkaClientOf(kafka) === 'confluent'
      ? await logAppendTimeTopics(kafka, inputs).catch((err: unknown) => {
          wlog.warn(
            { err },
            'could not read whether the inputs use LogAppendTime: ticks are not bounded by the append time',
          );
          return new Set<string>();
        })
      : new Set<string>();
  const tickKey = opts.tickKey;
  const tickMaxAheadMs = opts.tickMaxAheadMs ?? defaultTickMaxAheadMs;
  await consumer.subscribe(inputs);
  // A process that died between an offset commit and the drop after it left outputs behind.
  void sweepCommittedOutboxes(kafka, store, group, inputs).catch((err: unknown) =>
    wlog.warn({ err }, "could not sweep committed outboxes; the partitions' next batches retry"),
  );

  // End offsets: a partition at its end is paused; the run has reached its end when all are.
  const stopAt = opts.stopAt ?? new Map<string, string>();
  const pending = new Set([...stopAt.entries()].filter(([, end]) => compareOffsets(end, '0') > 0).map(([k]) => k));
  let resolveEnd!: () => void;
  const reachedEnd = new Promise<void>((r) => (resolveEnd = r));
  const atEnd = (topic: string, partition: number): void => {
    const k = `${topic}#${partition}`;
    if (!stopAt.has(k)) return;
    pending.delete(k);
    if (pending.size === 0) resolveEnd();
    pauseAtEnd(topic, partition);
  };
  // Pausing only saves fetches (a batch never goes past its end): the group-join check may come
  // before the client accepts a pause, so a refused pause is tried again shortly.
  const pauseAtEnd = (topic: string, partition: number, attempt = 1): void => {
    try {
      consumer.pause([{ topic, partitions: [partition] }]);
    } catch (err) {
      if (attempt < 20) setTimeout(() => pauseAtEnd(topic, partition, attempt + 1), 100 * attempt).unref();
      else wlog.warn({ err, topic, partition }, 'could not pause a partition at its end');
    }
  };
  if (stopAt.size > 0 && pending.size === 0) resolveEnd();

  // Partitions a resumed replay had already finished get no fetch to find out: ask the group once joined
  // (registered before run: run resolves after the first join).
  if (stopAt.size > 0) {
    consumer.onGroupJoin(() => {
      void checkCommittedEnds(kafka, group, stopAt, atEnd).catch((err: unknown) =>
        wlog.warn({ err }, 'could not read committed offsets'),
      );
    });
  }
  let moved = false;
  // Set when this generation stops: batches that have not written state yet give up; batches that
  // have are waited for, so their offsets are committed before the consumer stops (kafkajs drops a
  // commit made while it stops; uncommitted, a promote would hand the batch to the new generation,
  // which would publish its outputs a second time, decided under the new rules).
  let closing = false;
  const inFlight = new Set<Promise<void>>();
  // One batch per partition at a time (see processBatch), and what this process committed per partition.
  const inProgress = new Map<string, Promise<void>>();
  const committedHere = new Map<string, string>();
  // A fetch of only transaction markers or aborted records never reaches eachBatch: the client moves
  // past it by itself. Commit past it here, or the group would lag by the markers for ever (and a
  // replay whose end is a marker would never reach it). A plain commit, at once. Known race: retried
  // through an outage it can land after a later batch's transactional commit and move the group back
  // (dead letters of that range would be published again). Done in turn and through the partition's
  // transaction instead, a promote finishing an old generation came out one record short on the
  // clusters, not yet understood; so this stays as it was.
  consumer.onMarkersOnly(({ topic, partition, lastOffset }) => {
    if (moved) return;
    const next = nextOffset(lastOffset);
    const end = stopAt.get(`${topic}#${partition}`);
    if (end !== undefined && compareOffsets(next, end) > 0) return;
    // In flight like a batch: stopping waits for it (a commit dropped at stop would leave the group behind the markers).
    const commit = consumer
      .commitOffsets([{ topic, partition, offset: next }])
      .then(() => {
        // A batch of no records, committed: positions (a replay's progress) and ends move as with any other.
        opts.onBatch?.(emptyReport(), partition, topic, next);
        if (end !== undefined && compareOffsets(next, end) === 0) atEnd(topic, partition);
      })
      .catch((err: unknown) => wlog.warn({ err, topic, partition }, 'could not commit past transaction markers'));
    inFlight.add(commit);
    void commit.finally(() => inFlight.delete(commit));
  });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.concurrency ?? 3,
    eachBatch: (payload) => {
      const done = processBatch(payload);
      inFlight.add(done);
      return done.finally(() => inFlight.delete(done));
    },
  });
  // kafkajs may hand a partition's batch to eachBatch again while the first call still runs (after
  // another partition's batch failed it restarts its fetches from the resolved offsets, no rejoin):
  // one batch per partition at a time, and records this process already committed are skipped.
  async function processBatch(payload: WorkerBatchPayload): Promise<void> {
    if (payload.batch.messages.length === 0 || moved || closing) return;
    await inTurn(`${payload.batch.topic}#${payload.batch.partition}`, () => processPartitionBatch(payload));
  }
  /**
   * A committed position read after fencing the partition's previous owner (PartitionTransactions.begin,
   * once per join) is a lower bound for every later batch of the partition, not only the one that read it:
   * kafkajs fetched its start position before that commit was stable.
   */
  function noteCommitted(key: string, committed: string | null): void {
    if (committed === null) return;
    const here = committedHere.get(key);
    if (here === undefined || compareOffsets(committed, here) > 0) committedHere.set(key, committed);
  }
  /** Runs `step` after the partition's previous step has ended, unless the generation stops meanwhile. */
  async function inTurn(key: string, step: () => Promise<void>): Promise<void> {
    const previous = inProgress.get(key);
    const work = (async () => {
      if (previous) await previous.catch(() => undefined);
      if (moved || closing) return;
      await step();
    })();
    inProgress.set(key, work);
    try {
      await work;
    } finally {
      if (inProgress.get(key) === work) inProgress.delete(key);
    }
  }
  async function processPartitionBatch(payload: WorkerBatchPayload): Promise<void> {
    if (!transactions) return processInputs(payload, null);
    const { topic, partition } = payload.batch;
    const txn = { ...(await transactions.begin(topic, partition)), open: true };
    noteCommitted(`${topic}#${partition}`, txn.committed);
    try {
      await processInputs(payload, txn);
    } catch (err) {
      // Failed part-way: ended, and the partition gets a new producer (its sequence state may be off).
      await transactions.abort(topic, partition, { keepProducer: false });
      if (isFencedProducerError(err)) {
        wlog.warn({ topic, partition }, 'producer fenced by a newer owner of the partition: batch aborted');
        throw new PartitionFencedError(topic, partition, err as Error);
      }
      throw err;
    }
    // Given up without a commit (skipped, abandoned, the generation stopping): no transaction stays open.
    if (txn.open) await transactions.abort(topic, partition, { keepProducer: true });
  }
  const plogOf = (partition: number) => wlog.child({ partition });
  async function processInputs(
    { batch, heartbeat, isRunning, isStale, resolveOffset }: WorkerBatchPayload,
    txn: (PartitionTransaction & { open: boolean }) | null,
  ): Promise<void> {
    const key = `${batch.topic}#${batch.partition}`;
    const end = stopAt.get(key);
    // Records below the committed offset are done (their outputs are in Kafka): after a takeover, what the
    // previous owner committed (read after fencing it); else what this process committed.
    const here = committedHere.get(key) ?? null;
    const taken = txn?.committed ?? null;
    const committed = here === null ? taken : taken === null || compareOffsets(here, taken) > 0 ? here : taken;
    const messages = batch.messages.filter(
      (m) =>
        (end === undefined || compareOffsets(m.offset, end) < 0) &&
        (committed === null || compareOffsets(m.offset, committed) >= 0),
    );
    if (messages.length === 0) {
      if (committed !== null && batch.messages.some((m) => compareOffsets(m.offset, committed) < 0)) {
        resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
        plogOf(batch.partition).info({ committed }, 'batch already committed: skipped');
        if (end === undefined || compareOffsets(committed, end) < 0) return;
      }
      // Nothing before the end: what lies between the last record and the end (transaction markers) is passed too.
      if (end !== undefined) opts.onBatch?.(emptyReport(), batch.partition, batch.topic, end);
      atEnd(batch.topic, batch.partition);
      return;
    }
    // Forwarded ticks on memberflow's own topics are trusted (only the workers may write those); others must be signed.
    const logical = logicalFromPhysical(place.inputNamespace, batch.topic);
    const ownTopic = writtenByMemberflow(logical);
    const records: InputRecord[] = messages.map((m) => {
      const record: InputRecord = {
        topic: batch.topic,
        partition: batch.partition,
        offset: m.offset,
        timestamp: Number(m.timestamp),
        key: m.key ?? null,
        value: m.value ?? null,
      };
      const tickValue = m.headers?.[tickHeader] as Buffer | string | undefined;
      if (tickValue !== undefined) {
        const tick = tickTimeFromHeader(tickValue);
        const refusal = ownTopic
          ? null
          : (tickRefusal(tickKey, batch.topic, batch.partition, tick, m.headers?.[tickSignatureHeader]?.toString()) ??
            ((m.logAppendTime ?? appendTimeTopics.has(batch.topic)) && tick !== undefined
              ? tickAheadRefusal(tick, record.timestamp, tickMaxAheadMs)
              : null));
        if (refusal !== null) record.refusal = refusal;
        else if (tick !== undefined) record.tick = tick;
      }
      if (isOnlyCopy(logical, m.inTransaction === true)) record.onlyCopy = true;
      return record;
    });
    const plog = plogOf(batch.partition);
    const started = performance.now();
    totals.firstBatchStartedAt ??= Date.now();
    const report = await processor.process(records, {
      heartbeat,
      isActive: () => isRunning() && !isStale() && !moved && !closing,
      ...(txn
        ? {
            publisher: new OutputPublisher(
              txn.sender,
              opts.codec,
              place.outputNamespace,
              partitions.of,
              undefined,
              true,
            ),
          }
        : {}),
    });
    if (report.stateLost) {
      moved = true;
      onFailed(report.stateLost);
      return;
    }
    if (report.pointerMoved) {
      moved = true;
      onPointerMoved();
      return;
    }
    if (report.aborted) {
      plog.info({ firstOffset: records[0]!.offset }, 'batch abandoned: partition no longer ours or stopping');
      return;
    }
    // Past the batch's last raw offset when that is a transaction marker or an aborted record
    // (nothing to process there), but never past a replay's end.
    const lastProcessed = records[records.length - 1]!.offset;
    const rawLast = batch.lastOffset();
    const last =
      compareOffsets(rawLast, lastProcessed) > 0 && (end === undefined || compareOffsets(nextOffset(rawLast), end) <= 0)
        ? rawLast
        : lastProcessed;
    const commitStarted = performance.now();
    if (txn) {
      await transactions!.commit(batch.topic, batch.partition, nextOffset(last));
      txn.open = false;
    } else {
      await consumer
        .commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset(last) }])
        .catch((err: unknown) => {
          throw membershipError(err);
        });
    }
    const committedAt = performance.now();
    // Only once committed: after a failed commit kafkajs fetches again from the last resolved offset,
    // without a rejoin, and a batch resolved before its transaction failed would never come back.
    resolveOffset(last);
    committedHere.set(key, nextOffset(last));
    if (report.outcomes.applied + report.outcomes.rejected > 0) await failpoint('after-commit');
    await dropCommitted(store, report, batch.topic, batch.partition, nextOffset(last), plog);
    accumulate(totals, report);
    totals.lastBatchEndedAt = Date.now();
    opts.observer?.batchCommitted({
      topic: batch.topic,
      partition: batch.partition,
      report,
      seconds: (committedAt - started) / 1000,
      commitSeconds: (committedAt - commitStarted) / 1000,
      lastTimestamp: records[records.length - 1]!.timestamp,
      committedAt: Date.now(),
    });
    plog.debug({ records: report.records, outputs: report.outputs, lastOffset: last }, 'batch committed');
    opts.onBatch?.(report, batch.partition, batch.topic, nextOffset(last));
    if (end !== undefined && compareOffsets(nextOffset(last), end) >= 0) atEnd(batch.topic, batch.partition);
    // Last: a heartbeat refused (this member left the group while the batch ran) throws, and the batch is
    // committed and counted by then.
    await heartbeat();
  }
  wlog.info({ inputs, group }, 'worker running');
  return {
    group,
    reachedEnd,
    async stop() {
      closing = true;
      await Promise.allSettled([...inFlight]);
      await consumer.disconnect();
      await producer.disconnect();
      await transactions?.close();
      await partitions.close();
      wlog.info({ ...totals }, 'worker stopped');
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
