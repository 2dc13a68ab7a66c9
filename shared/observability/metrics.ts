import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BatchObservation, WorkerObserver } from '../runtime/observer.js';

/**
 * memberflow's Prometheus metrics (prom-client), one registry per process. Labels stay few:
 * worker, outcome, reason, cause, topic and partition; never a member or an event id.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly inputs = new Counter({
    name: 'memberflow_inputs_total',
    help: 'Input records by outcome: applied, duplicate, redelivered, rejected, undecodable.',
    labelNames: ['worker', 'outcome'],
    registers: [this.registry],
  });
  private readonly rejections = new Counter({
    name: 'memberflow_rejections_total',
    help: 'Input records sent to the dead-letter topic, by reason.',
    labelNames: ['worker', 'reason'],
    registers: [this.registry],
  });
  private readonly outputs = new Counter({
    name: 'memberflow_outputs_total',
    help: 'Output records published.',
    labelNames: ['worker'],
    registers: [this.registry],
  });
  private readonly batches = new Counter({
    name: 'memberflow_batches_total',
    help: 'Batches committed.',
    labelNames: ['worker'],
    registers: [this.registry],
  });
  private readonly batchRecords = new Histogram({
    name: 'memberflow_batch_records',
    help: 'Records per committed batch.',
    labelNames: ['worker'],
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [this.registry],
  });
  private readonly batchSeconds = new Histogram({
    name: 'memberflow_batch_duration_seconds',
    help: 'From the start of a batch to its committed offsets.',
    labelNames: ['worker'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly eventAge = new Histogram({
    name: 'memberflow_event_age_seconds',
    help: "Age of a batch's last input record (its Kafka timestamp) when the batch is committed.",
    labelNames: ['worker'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  private readonly fenced = new Counter({
    name: 'memberflow_fenced_retries_total',
    help: 'Batch attempts redone, by cause: fence (another writer won a member), replication (Redis replicas behind).',
    labelNames: ['worker', 'cause'],
    registers: [this.registry],
  });
  private readonly stateWrite = new Histogram({
    name: 'memberflow_redis_script_duration_seconds',
    help: "The batch's fenced state write to Redis (scripts and replication check), per attempt.",
    labelNames: ['worker'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly stateBytes = new Counter({
    name: 'memberflow_state_bytes_written_total',
    help: 'Bytes of member records written to Redis.',
    labelNames: ['worker'],
    registers: [this.registry],
  });
  private readonly commitSeconds = new Histogram({
    name: 'memberflow_transaction_commit_duration_seconds',
    help: 'Committing a batch: its Kafka transaction (outputs and offsets), or the plain offset commit without transactions.',
    labelNames: ['worker'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly lag = new Gauge({
    name: 'memberflow_consumer_lag',
    help: "Records between the group's committed position and the end of an assigned input partition.",
    labelNames: ['worker', 'topic', 'partition'],
    registers: [this.registry],
  });
  private readonly assigned = new Gauge({
    name: 'memberflow_assigned_partitions',
    help: 'Input partitions assigned to this process.',
    labelNames: ['worker'],
    registers: [this.registry],
  });
  private readonly ready = new Gauge({
    name: 'memberflow_ready',
    help: '1 when /readyz answers 200.',
    registers: [this.registry],
  });
  private readonly consumerRestarts = new Counter({
    name: 'memberflow_consumer_restarts_total',
    help: 'Times the Kafka consumer failed and restarted (broker outages, coordinator moves).',
    labelNames: ['worker'],
    registers: [this.registry],
  });

  private readonly lagSeries = new Map<string, { worker: string; topic: string; partition: string }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'memberflow_' });
  }

  /** What a worker's runtime reports, turned into this registry's series. */
  observerFor(
    worker: string,
    onJoin: (assignment: ReadonlyMap<string, readonly number[]>) => void,
    onFailing: (failing: boolean) => void,
  ): WorkerObserver {
    return {
      joined: (assignment) => {
        this.assigned.set(
          { worker },
          [...assignment.values()].reduce((n, p) => n + p.length, 0),
        );
        onJoin(assignment);
      },
      consumerFailing: (failing) => {
        if (failing) this.consumerRestarts.inc({ worker });
        onFailing(failing);
      },
      batchCommitted: (b) => this.batchCommitted(worker, b),
    };
  }

  private batchCommitted(worker: string, b: BatchObservation): void {
    const r = b.report;
    for (const [outcome, n] of Object.entries(r.outcomes)) if (n > 0) this.inputs.inc({ worker, outcome }, n);
    for (const [reason, n] of Object.entries(r.rejections)) if (n > 0) this.rejections.inc({ worker, reason }, n);
    if (r.outputs > 0) this.outputs.inc({ worker }, r.outputs);
    if (r.fencedRetries > 0) this.fenced.inc({ worker, cause: 'fence' }, r.fencedRetries);
    if (r.replicationRetries > 0) this.fenced.inc({ worker, cause: 'replication' }, r.replicationRetries);
    for (const s of r.stateWriteSeconds) this.stateWrite.observe({ worker }, s);
    if (r.stateBytes > 0) this.stateBytes.inc({ worker }, r.stateBytes);
    this.batches.inc({ worker });
    this.batchRecords.observe({ worker }, r.records);
    this.batchSeconds.observe({ worker }, b.seconds);
    this.commitSeconds.observe({ worker }, b.commitSeconds);
    if (b.lastTimestamp !== null)
      this.eventAge.observe({ worker }, Math.max(0, (b.committedAt - b.lastTimestamp) / 1000));
  }

  setLag(worker: string, topic: string, partition: number, lag: number): void {
    const labels = { worker, topic, partition: String(partition) };
    this.lagSeries.set(`${worker}|${topic}#${partition}`, labels);
    this.lag.set(labels, lag);
  }

  /** Forgets the lag series of a worker's partitions not in `keep` (keyed topic#partition): no longer assigned here. */
  clearLag(worker: string, keep: ReadonlySet<string>): void {
    for (const [key, labels] of this.lagSeries) {
      if (labels.worker !== worker || keep.has(`${labels.topic}#${labels.partition}`)) continue;
      this.lag.remove(labels);
      this.lagSeries.delete(key);
    }
  }

  /**
   * The sum of a series over the samples whose labels include `labels` (a histogram's `_sum` or
   * `_count` by that full name): what a caller in the same process reads without the text format.
   */
  async total(series: string, labels: Record<string, string> = {}): Promise<number> {
    const base = series.replace(/_(sum|count)$/, '');
    const metric = this.registry.getSingleMetric(series) ?? this.registry.getSingleMetric(base);
    if (!metric) return 0;
    // Histogram samples name their own series (`_bucket`, `_sum`, `_count`) in metricName, which the types leave out.
    const { values } = await metric.get();
    return values
      .filter(
        (v) =>
          ((v as { metricName?: string }).metricName ?? series) === series &&
          Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
      )
      .reduce((n, v) => n + v.value, 0);
  }

  setReady(ready: boolean): void {
    this.ready.set(ready ? 1 : 0);
  }
}
