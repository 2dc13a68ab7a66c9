#!/usr/bin/env bash
# The quick-start demo: install, bring the native stack up, replay real data, print what happened.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  bash scripts/npm-ci.sh
fi
if [ -z "${KAFKA_BROKERS:-}" ]; then
  bash stack/stack.sh up
  eval "$(bash stack/stack.sh env | sed 's/^/export /')"
fi
export MEMBERFLOW_NAMESPACE="${MEMBERFLOW_NAMESPACE:-demo-$(date +%Y%m%d%H%M%S)}"
# Errors only: warnings such as a fenced write retried are normal under load and counted in the metrics;
# JSON log lines would break up the report. LOG_LEVEL=warn (or info) shows them.
export LOG_LEVEL="${LOG_LEVEL:-error}"
node bin/memberflow.js demo "$@"
