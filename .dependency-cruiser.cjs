/**
 * The dependency rules `npm run lint:deps` enforces (dependency-cruiser; `npm test` runs it in `npm run lint`).
 * Dependencies point one way: contracts (records, topics, schemas) and the kernel (pure records, decisions,
 * batching rules) at the bottom; adapters (Kafka, Redis, registry) above; the runtime that wires them
 * (shared/runtime: the batch processor, the worker runtime, the live pointer) above those; services above
 * that; the CLI and the bench on top.
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
    {
      name: 'kernel-below-adapters',
      comment: 'The kernel is pure: it imports no adapter (Kafka, Redis, registry), no runtime and no observability.',
      severity: 'error',
      from: { path: '^shared/kernel/' },
      to: { path: '^shared/(kafka|redis|registry|runtime|observability)/' },
    },
    {
      name: 'adapters-below-runtime',
      comment: 'Adapters know Kafka, Redis or the registry, not the runtime that wires them together.',
      severity: 'error',
      from: { path: '^shared/(kafka|redis|registry)/' },
      to: { path: '^shared/runtime/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
  },
};
