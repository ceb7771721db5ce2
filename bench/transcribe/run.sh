#!/usr/bin/env bash
# Transcription speed (asr package, asr transcribe): the in-process real-time
# factor on a 10 s clip (go test -bench: resampling, features, model, greedy
# decoding, pure-Go backend), the cost of a streaming partial result, model
# loading, and the whole process "asr transcribe" of a 5 s clip with
# hyperfine (process start, model load, graph build, transcription).
# Prints the machine load before and after, since the figures depend on it.
#
# Usage: bench/transcribe/run.sh [MODEL_DIR] [runs]
#   MODEL_DIR defaults to the bundled model (asr transcribe without --model).
set -euo pipefail
cd "$(dirname "$0")/../.."
model="${1:-}"
runs="${2:-20}"
export GOMLX_NO_AUTO_INSTALL=1
command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install hyperfine" >&2; exit 1; }

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/asr" ./cmd/asr
clip=testdata/ljspeech/wavs/LJ001-0004.wav # 5.14 s, 22.05 kHz
args=()
if [ -n "$model" ]; then
  args=(--model "$model")
fi

echo "== $(date -u +%FT%TZ) $(nproc) cores, go $(go env GOVERSION), model ${model:-bundled}"
echo "== load before: $(uptime)"
go test -run '^$' -bench 'Transcribe|Load|Partial' -benchtime 10x ./asr
echo "== transcript: $("$bin/asr" transcribe "${args[@]}" "$clip")"
hyperfine --warmup 3 --runs "$runs" --style basic \
  --command-name "asr transcribe (5.1 s clip, default backend: auto)" "$bin/asr transcribe ${args[*]} $clip" \
  --command-name "asr transcribe --backend go (5.1 s clip)" "$bin/asr transcribe --backend go ${args[*]} $clip"
echo "== load after: $(uptime)"
