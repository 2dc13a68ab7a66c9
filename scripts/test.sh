#!/usr/bin/env bash
# The whole test suite: type check, unit tests, then integration and e2e tests against a
# real stack (endpoints from the environment, testcontainers with Docker, or the native stack).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npx tsc --noEmit
npx vitest run --reporter=default "$@"
