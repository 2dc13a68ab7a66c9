import { existsSync } from 'node:fs';

/**
 * Runs before each file of the `integration-after-faults` project. When `npm test` runs that project in its
 * second vitest process, beside the single-node fault suite (scripts/test.sh sets MEMBERFLOW_SINGLE_FAULTS_DONE),
 * the file waits until the fault suite has ended: its broker scenario restarts the broker these files use.
 * The first vitest process writes the file when the fault suite ends, and again when it exits.
 */
const done = process.env.MEMBERFLOW_SINGLE_FAULTS_DONE;
if (done) {
  const deadline = Date.now() + 90 * 60_000;
  while (!existsSync(done)) {
    if (Date.now() > deadline)
      throw new Error(`the single-node fault suite did not end within 90 minutes (no ${done}): not started`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
