#!/usr/bin/env bash
# `npm ci` for this repository. @confluentinc/kafka-javascript (the optional librdkafka client,
# MEMBERFLOW_KAFKA_CLIENT=confluent) downloads a prebuilt binary from GitHub by default; where
# GitHub is out of reach that fails and npm drops the package. So build it from the librdkafka
# source the package bundles (about 3 minutes), linked against the system's OpenSSL and zlib
# (CKJS_LINKING=dynamic). If even that fails, npm still installs everything else: kafkajs, the
# default client, needs no build.
set -euo pipefail
cd "$(dirname "$0")/.."
CKJS_LINKING=dynamic npm_config_build_from_source=true npm ci --no-audit --no-fund
