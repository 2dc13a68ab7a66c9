import { existsSync } from 'node:fs';

/**
 * Runs before each file of the `integration-after-faults` project. When `npm test` runs that project in its
 * second vitest process, beside the single-node fault suite (scripts/test.sh sets MEMBERFLOW_SINGLE_BROKER_SETTLED),
 * the file waits until the suite's broker scenario has ended: it restarts the broker these files use. That
 * scenario runs first; the first vitest process writes the file when it ends (or when the suite ends without
 * it), and again when the process exits.
 */
const done = process.env.MEMBERFLOW_SINGLE_BROKER_SETTLED;
if (done) {
  const deadline = Date.now() + 90 * 60_000;
  while (!existsSync(done)) {
    if (Date.now() > deadline)
      throw new Error(
        `the single-node fault suite's broker scenario did not end within 90 minutes (no ${done}): not started`,
      );
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
