import type { BatchReport } from './batch-processor.js';

/** A committed batch, as the runtime saw it. */
export interface BatchObservation {
  topic: string;
  partition: number;
  report: BatchReport;
  /** From the start of the batch to its committed offsets. */
  seconds: number;
  /** The transaction commit (outputs and offsets), or the plain offset commit. */
  commitSeconds: number;
  /** Kafka timestamp of the batch's last record (epoch ms), null for a batch of none. */
  lastTimestamp: number | null;
  committedAt: number;
}

/**
 * What a worker's runtime tells whoever watches it (metrics, health). Implemented above the
 * kernel (shared/observability); the runtime only calls it, so the kernel knows no metrics library.
 */
export interface WorkerObserver {
  /** The consumer joined its group with this assignment: topic → partitions. */
  joined(assignment: ReadonlyMap<string, readonly number[]>): void;
  /** The consumer failed and restarts (true), or is back in its group (false). */
  consumerFailing(failing: boolean): void;
  batchCommitted(batch: BatchObservation): void;
}
