// Prints passed/failed/skipped per suite (unit, integration, e2e) from vitest's JSON reports, and the slowest files.
// Arguments: report files, each optionally labelled (`cluster=/tmp/report.json`) when several vitest runs went beside each other.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const suites = { unit: [0, 0, 0], integration: [0, 0, 0], e2e: [0, 0, 0] };
const files = [];
const failedFiles = [];
for (const arg of process.argv.slice(2)) {
  const [label, path] = arg.includes('=') ? arg.split(/=(.*)/s) : ['', arg];
  const report = JSON.parse(readFileSync(path, 'utf8'));
  for (const file of report.testResults) {
    const suite = /\/test\/(unit|integration|e2e)\//.exec(file.name)?.[1] ?? 'unit';
    for (const t of file.assertionResults) {
      const i = t.status === 'passed' ? 0 : t.status === 'failed' ? 1 : 2;
      suites[suite][i]++;
    }
    const name = relative(process.cwd(), file.name);
    // A file that failed to load, or whose beforeAll failed (its tests then show as skipped), counts as a failure.
    if (file.status === 'failed') failedFiles.push(label ? `${name} (${label})` : name);
    if (file.status === 'failed' && !file.assertionResults.some((t) => t.status === 'failed')) suites[suite][1]++;
    files.push({ name: label ? `${name} (${label})` : name, seconds: (file.endTime - file.startTime) / 1000 });
  }
}
let [p, f, s] = [0, 0, 0];
for (const [name, [passed, failed, skipped]] of Object.entries(suites)) {
  console.log(`${name}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  p += passed;
  f += failed;
  s += skipped;
}
console.log(`total: ${p} passed, ${f} failed, ${s} skipped`);
for (const name of failedFiles) console.log(`failed file: ${name}`);
console.log('slowest files (seconds):');
for (const { name, seconds } of files.sort((a, b) => b.seconds - a.seconds).slice(0, 20))
  console.log(`${seconds.toFixed(0).padStart(6)}  ${name}`);
// A full run must have run the integration and e2e suites: a stack that never came up is a failure.
const requireAll = process.env.REQUIRE_ALL_SUITES === '1';
if (f > 0 || s > 0 || (requireAll && (suites.integration[0] === 0 || suites.e2e[0] === 0))) process.exit(1);
