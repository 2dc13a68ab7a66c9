#!/usr/bin/env bash
# The whole test suite: type check, unit tests, then integration and e2e tests against a
# real stack (endpoints from the environment, testcontainers with Docker, or the native stack).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npx tsc --noEmit
report="$(mktemp -t memberflow-vitest-XXXXXX.json)"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# Counts per suite, so a run shows that the integration and e2e suites ran (none is ever skipped).
require_all=0
[ $# -eq 0 ] && require_all=1
REQUIRE_ALL_SUITES=$require_all node scripts/test-summary.mjs "$report" || status=1
rm -f "$report"
exit "$status"
