/**
 * The reference consumers' counterpart of a worker's totals (cli/commands/run.ts writes those to
 * MEMBERFLOW_TOTALS_FILE): records processed and the span from the first batch's start to the
 * last one's end, written at exit, so every process's rate is computed the same way.
 */
import { writeFileSync } from 'node:fs';

export class BatchTotals {
  records = 0;
  firstBatchStartedAt: number | null = null;
  lastBatchEndedAt: number | null = null;

  started(): void {
    this.firstBatchStartedAt ??= Date.now();
  }

  ended(records: number): void {
    this.records += records;
    this.lastBatchEndedAt = Date.now();
  }

  write(name: string): void {
    const file = process.env.MEMBERFLOW_TOTALS_FILE;
    if (file)
      writeFileSync(
        file,
        JSON.stringify({
          [name]: {
            records: this.records,
            firstBatchStartedAt: this.firstBatchStartedAt,
            lastBatchEndedAt: this.lastBatchEndedAt,
          },
        }),
      );
  }
}
