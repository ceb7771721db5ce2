#!/usr/bin/env bash
# The baseline the bundled model is compared with: CMU PocketSphinx (Debian's
# pocketsphinx with its general US English acoustic model, language model and
# dictionary) on the 8 real LJSpeech clips in testdata, resampled to 16 kHz
# with sox. Prints each hypothesis, the time taken (model load per file
# included, as pocketsphinx_continuous loads it for every file) and the WER
# and CER scored by `asr score` (normalised like training transcripts).
#
# Usage: bench/compare/pocketsphinx.sh
# Needs: apt-get install pocketsphinx pocketsphinx-en-us sox
set -euo pipefail
cd "$(dirname "$0")/../.."
for t in pocketsphinx_continuous sox; do
  command -v "$t" >/dev/null || { echo "$t is missing: apt-get install pocketsphinx pocketsphinx-en-us sox" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for wav in testdata/ljspeech/wavs/*.wav; do
  sox "$wav" -r 16000 -b 16 -c 1 "$work/$(basename "$wav")"
done
start=$(date +%s.%N)
for wav in "$work"/*.wav; do
  id=$(basename "$wav" .wav)
  printf '%s\t%s\n' "$id" "$(pocketsphinx_continuous -infile "$wav" -logfn /dev/null 2>/dev/null | tr '\n' ' ')"
done > "$work/hyp.tsv"
end=$(date +%s.%N)
cat "$work/hyp.tsv"
audio=$(for w in "$work"/*.wav; do soxi -D "$w"; done | awk '{s+=$1} END {printf "%.1f", s}')
awk -v a="$audio" -v s="$start" -v e="$end" 'BEGIN {printf "time %.1f s for %s s of audio (RTF %.2f)\n", e-s, a, (e-s)/a}'
go run ./cmd/asr score testdata/ljspeech/metadata.csv "$work/hyp.tsv"
