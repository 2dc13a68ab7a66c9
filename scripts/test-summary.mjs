// Prints passed/failed/skipped per suite (unit, integration, e2e) from vitest's JSON report.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const suites = { unit: [0, 0, 0], integration: [0, 0, 0], e2e: [0, 0, 0] };
for (const file of report.testResults) {
  const suite = /\/test\/(unit|integration|e2e)\//.exec(file.name)?.[1] ?? 'unit';
  for (const t of file.assertionResults) {
    const i = t.status === 'passed' ? 0 : t.status === 'failed' ? 1 : 2;
    suites[suite][i]++;
  }
  // A file that failed to load has no assertions but must count as a failure.
  if (file.status === 'failed' && file.assertionResults.length === 0) suites[suite][1]++;
}
let [p, f, s] = [0, 0, 0];
for (const [name, [passed, failed, skipped]] of Object.entries(suites)) {
  console.log(`${name}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  p += passed;
  f += failed;
  s += skipped;
}
console.log(`total: ${p} passed, ${f} failed, ${s} skipped`);
// A full run must have run the integration and e2e suites: a stack that never came up is a failure.
const requireAll = process.env.REQUIRE_ALL_SUITES === '1';
if (f > 0 || s > 0 || (requireAll && (suites.integration[0] === 0 || suites.e2e[0] === 0))) process.exit(1);
