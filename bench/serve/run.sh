#!/usr/bin/env bash
# Load benchmark of asr serve (see bench/serve/main.go): 200 transcription
# requests from 16 concurrent clients on loopback, then 20 concurrent
# /v1/stream sessions of 60 s of audio each; then the same requests with a
# queue of 2 to show the load shedding (503 with Retry-After, which the
# clients honour before retrying). Prints the
# machine load before and after, since the figures depend on it.
#
# Usage: bench/serve/run.sh [MODEL_DIR]   (default: the bundled model)
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOMLX_NO_AUTO_INSTALL=1
model="${1:-}"
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/bench" ./bench/serve

echo "== $(date -u +%FT%TZ) $(nproc) cores, go $(go env GOVERSION), model ${model:-bundled}"
echo "== load before: $(uptime)"
"$bin/bench" -model "$model"
echo "== load shedding: the same requests with a queue of 2, clients retrying after Retry-After"
"$bin/bench" -model "$model" -queue 2 -streams 0 -retry
echo "== load after: $(uptime)"
