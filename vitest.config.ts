import { defineConfig } from 'vitest/config';

/** Files the `cluster` project runs on a Redis Cluster. */
const clusterFiles = [
  'test/integration/member-store.test.ts',
  'test/integration/pointer-moves.test.ts',
  'test/integration/state-loss.test.ts',
  'test/integration/kernel-guarantees.test.ts',
  'test/integration/promote-finish.test.ts',
  'test/e2e/reco-online-retail.test.ts',
  // Only its failover scenarios run there (Redis master, partition leader; the whole Kafka cluster on request).
  'test/e2e/fault-suite.test.ts',
];

/**
 * Single-node files `npm test` runs in the second vitest process once the cluster project is done (scripts/test.sh),
 * each waiting first for the single-node fault suite's broker scenario to end (it runs first): it restarts the one
 * broker they use.
 */
const afterFaultsFiles = [
  'test/e2e/full-pipeline.test.ts',
  'test/integration/replay-toolkit.test.ts',
  'test/integration/ticks.test.ts',
  'test/integration/operations.test.ts',
  'test/e2e/churn-cdnow.test.ts',
  'test/e2e/compiled-build.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        // Property tests run hundreds of cases: on a busy two-core machine some take several seconds (a cap, not a goal).
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', testTimeout: 30_000 },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: afterFaultsFiles,
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // The suites share one broker and one Redis on a 2-core machine: run files one at a time.
          fileParallelism: false,
        },
      },
      {
        // The same stack as `integration`; a file waits for the fault suite's broker scenario when scripts/test.sh says so.
        test: {
          name: 'integration-after-faults',
          include: afterFaultsFiles,
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/after-broker-scenario.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        // The same files again on a Redis Cluster (three masters, three replicas) and three Kafka brokers: those whose Redis
        // use differs there (scripts and their fences, projection shards, key scans, lost data, promote).
        // The rest talk to Redis only through what these cover. See docs/SCALING.md.
        test: {
          name: 'cluster',
          include: clusterFiles,
          // `npm test` runs this project in a vitest process of its own beside the others (scripts/test.sh); a bare
          // `npx vitest run` runs it after them.
          sequence: { groupOrder: 1 },
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
