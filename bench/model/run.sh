#!/usr/bin/env bash
# Benchmarks of the acoustic model on the project's pure-Go backend, as
# reported in the README: the training step of tiny (8 clips of 4 s) and the
# log-probs of one 10 s utterance for tiny and small, with the matmul speed
# and the FLOPs floor. The machine load (uptime) is printed before and after:
# figures taken while other processes use the cores are not comparable.
#
# Usage: bench/model/run.sh [count]   (default 3 runs of each benchmark)
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOMLX_NO_AUTO_INSTALL=1
count=${1:-3}

echo "== $(uptime)"
go test -c -o /tmp/asrkit-model.test ./asr/model
/tmp/asrkit-model.test -test.run '^$' -test.bench 'TrainStep' -test.benchtime 10x -test.count "$count"
/tmp/asrkit-model.test -test.run '^$' -test.bench 'LogProbs' -test.benchtime 10x -test.count "$count"
echo "== $(uptime)"
