#!/usr/bin/env bash
# The whole test suite: type check, unit tests, then integration and e2e tests against a
# real stack (endpoints from the environment, testcontainers with Docker, or the native stack).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  bash scripts/npm-ci.sh
fi
# kcat (librdkafka) reads our topics as an independent client in the e2e tests; Debian's
# docker-compose validates docker-compose.yml (there is no Docker engine: container-files.test.ts).
for tool in kcat docker-compose; do
  command -v "$tool" >/dev/null 2>&1 && continue
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $tool (Debian package) for the tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
  else
    echo "$tool is needed by the tests: install it (Debian: apt-get install $tool) and run again" >&2
    exit 1
  fi
done
npx tsc --noEmit
# ESLint (typescript-eslint strict, type-checked), Prettier's layout, and the dependency rules
# (.dependency-cruiser.cjs: no cycles, no service importing another, layers one way).
npm run --silent lint
status=0
reports=()
labelled=()
if [ $# -eq 0 ]; then
  # Two vitest processes side by side. The second runs the cluster project (brokers and Redis nodes of its own,
  # stack.sh up --redis-cluster --brokers 3; only the schema registry is shared, and every file has its own
  # subjects), then the integration-after-faults files on the single-node stack, each once the first process's
  # fault suite has run its broker scenario (it restarts that broker; it runs first). Much of both runs is waiting
  # on faults and failovers. The second process's lines are prefixed.
  gate_dir="$(mktemp -d -t memberflow-gate-XXXXXX)"
  export MEMBERFLOW_SINGLE_BROKER_SETTLED="$gate_dir/single-node-broker-settled"
  second_report="$(mktemp -t memberflow-vitest-second-XXXXXX.json)"
  reports+=("$second_report")
  labelled+=("second process=$second_report")
  (npx vitest run --project cluster --project integration-after-faults --reporter=default --reporter=json \
    --outputFile.json="$second_report" 2>&1 | sed -u 's/^/[second] /') &
  second_pid=$!
  main_report="$(mktemp -t memberflow-vitest-XXXXXX.json)"
  reports+=("$main_report")
  labelled+=("$main_report")
  npx vitest run --project unit --project integration --reporter=default --reporter=json \
    --outputFile.json="$main_report" || status=$?
  # Whatever happened to the fault suite, the first process is done with the broker.
  touch "$MEMBERFLOW_SINGLE_BROKER_SETTLED"
  wait "$second_pid" || status=$?
  rm -rf "$gate_dir"
else
  main_report="$(mktemp -t memberflow-vitest-XXXXXX.json)"
  reports+=("$main_report")
  labelled+=("$main_report")
  npx vitest run --reporter=default --reporter=json --outputFile.json="$main_report" "$@" || status=$?
fi
# Counts per suite, so a run shows that the integration and e2e suites ran (none is ever skipped), and the slowest files.
require_all=0
[ $# -eq 0 ] && require_all=1
REQUIRE_ALL_SUITES=$require_all node scripts/test-summary.mjs "${labelled[@]}" || status=1
rm -f "${reports[@]}"
exit "$status"
