#!/usr/bin/env bash
# A/B benchmark of a package between a git revision (A) and the working tree
# (B), for machines that other work shares: both test binaries are built
# first, then run alternately, one -count at a time, so that a change in the
# machine's load hits both sides alike; benchstat compares the results. The
# load (uptime) is printed before each round.
#
# Usage: bench/ab.sh REV PACKAGE BENCH_REGEXP [rounds] [benchtime]
#   e.g. bench/ab.sh main ./asr/model 'TrainStep|LogProbs' 6 10x
# Needs benchstat (go install golang.org/x/perf/cmd/benchstat@latest).
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?revision}
pkg=${2:?package, e.g. ./asr/model}
bench=${3:?benchmark regexp}
rounds=${4:-6}
benchtime=${5:-10x}
export GOMLX_NO_AUTO_INSTALL=1
command -v benchstat >/dev/null || { echo "benchstat is missing: go install golang.org/x/perf/cmd/benchstat@latest" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/a"
git archive "$rev" | tar -x -C "$work/a"
(cd "$work/a" && go test -c -o "$work/a.test" "$pkg")
go test -c -o "$work/b.test" "$pkg"

# Each binary runs in its own tree's package directory (tests read testdata
# relative to it).
dir_a="$work/a/$pkg"
dir_b="$pkg"
echo "== A: $rev ($(git rev-parse --short "$rev")), B: working tree ($(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')); $(nproc) cores"
for i in $(seq "$rounds"); do
  echo "== round $i: $(uptime)"
  (cd "$dir_a" && "$work/a.test" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" -test.count 1) | tee -a "$work/a.txt" | grep '^Benchmark' | sed 's/^/A /'
  (cd "$dir_b" && "$work/b.test" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" -test.count 1) | tee -a "$work/b.txt" | grep '^Benchmark' | sed 's/^/B /'
done
echo "== after: $(uptime)"
benchstat A="$work/a.txt" B="$work/b.txt"
