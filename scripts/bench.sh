#!/usr/bin/env bash
# npm run bench [-- --short] [-- --doc]: the benchmark harness; npm run bench:state-sizes: the largest states of a real year (bench/README.md) on the real
# stack: endpoints from the environment, or the native stack brought up here.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  bash scripts/npm-ci.sh
fi
if [ -z "${KAFKA_BROKERS:-}" ]; then
  bash stack/stack.sh up
  eval "$(bash stack/stack.sh env | sed 's/^/export /')"
fi
if [ "${1:-}" = "--state-sizes" ]; then
  exec node --import tsx bench/state-sizes.ts
fi
exec node --import tsx bench/run.ts "$@"
