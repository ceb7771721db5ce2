#!/usr/bin/env bash
# Data-path benchmarks (asr/data): feature-cache build for an hour of 22.05 kHz
# audio, cached reads, epochs of batches, and the time a simulated trainer
# waits for data. Prints the machine load before and after, since the figures
# depend on it. Usage: bench/data/run.sh [count]   (default 5 runs each)
set -euo pipefail
cd "$(dirname "$0")/../.."
count="${1:-5}"
export GOMLX_NO_AUTO_INSTALL=1
echo "== $(date -u +%FT%TZ) $(nproc) cores, go $(go env GOVERSION)"
echo "== load before: $(uptime)"
go test -run '^$' -bench 'CacheBuild' -benchtime 1x -count "$count" ./asr/data
go test -run '^$' -bench 'CacheRead|Epoch' -benchtime 3x -count "$count" ./asr/data
go test -run '^$' -bench 'TrainerWait' -benchtime 1x -count "$count" ./asr/data
echo "== load after: $(uptime)"
