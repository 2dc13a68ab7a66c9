/**
 * The dependency rules `npm run lint:deps` enforces (dependency-cruiser; `npm test` runs it first).
 * Dependencies point one way: contracts and the kernel at the bottom, adapters (Kafka, Redis,
 * registry) above, services above them, the CLI and the bench on top.
 * Not enforced yet: the kernel's own modules still import adapter code (batch-processor.ts uses
 * the Redis member store; types.ts, ticks.ts and live-pointer.ts the topic catalogue and Redis
 * types), which splitting the runtime from the kernel will remove.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, type imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-service-imports-another',
      comment: 'A service reads another one only through shared/contracts.',
      severity: 'error',
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/([^/]+)/', pathNot: '^services/$1/' },
    },
    {
      name: 'shared-below-services',
      comment: 'shared/ never imports a service.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^services/' },
    },
    {
      name: 'cli-and-bench-on-top',
      comment: 'Nothing below imports the CLI or the bench.',
      severity: 'error',
      from: { path: '^(shared|services)/' },
      to: { path: '^(cli|bench)/' },
    },
    {
      name: 'no-test-code',
      comment: 'Production code never imports test code.',
      severity: 'error',
      from: { path: '^(shared|services|cli)/' },
      to: { path: '^test/' },
    },
    {
      name: 'contracts-at-the-bottom',
      comment: 'Contracts describe records: they import nothing of memberflow but other contracts.',
      severity: 'error',
      from: { path: '^shared/contracts/' },
      to: { path: '^(shared|services|cli|bench)/', pathNot: '^shared/contracts/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
  },
};
