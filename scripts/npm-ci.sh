#!/usr/bin/env bash
# `npm ci` for this repository. @confluentinc/kafka-javascript (the optional librdkafka client,
# MEMBERFLOW_KAFKA_CLIENT=confluent) downloads a prebuilt binary from GitHub; where GitHub is out
# of reach its install script (--fallback-to-build) builds it from the librdkafka source the
# package bundles (about 2 minutes), linked against the system's OpenSSL and zlib
# (CKJS_LINKING=dynamic). If even that fails, npm still installs everything else: kafkajs, the
# default client, needs no build. package.json's allowScripts lists the packages whose install
# scripts run (npm 11 asks for it, and warns without it).
set -euo pipefail
cd "$(dirname "$0")/.."
CKJS_LINKING=dynamic npm ci --no-audit --no-fund
