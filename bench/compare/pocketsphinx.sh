#!/usr/bin/env bash
# The baseline the bundled model is compared with: CMU PocketSphinx (Debian's
# pocketsphinx with its general US English acoustic model, language model and
# dictionary). Each clip is converted to 16 kHz mono 16-bit WAV with sox,
# without dither (PocketSphinx's result changes with the dither noise, by up
# to 4 WER points on the LJSpeech clips), decoded by pocketsphinx_continuous, and the hypotheses are scored by
# `asr score` (both sides normalised like training transcripts). Prints each
# hypothesis, the time taken (model load per file included, as
# pocketsphinx_continuous loads it for every file) and the WER and CER.
#
# Usage: bench/compare/pocketsphinx.sh                 the 8 LJSpeech clips in testdata
#        bench/compare/pocketsphinx.sh MANIFEST.jsonl  a JSONL manifest ("id" or
#          "audio_filepath"/"audio" and "text"; relative paths are relative to it),
#          e.g. the held-out real speakers written by recipes/bundled/splitreal
# Needs: apt-get install pocketsphinx pocketsphinx-en-us sox libsox-fmt-mp3
set -euo pipefail
cd "$(dirname "$0")/../.."
for t in pocketsphinx_continuous sox python3; do
  command -v "$t" >/dev/null || { echo "$t is missing: apt-get install pocketsphinx pocketsphinx-en-us sox libsox-fmt-mp3 python3" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# list.tsv: id <TAB> audio path <TAB> reference text
if [ $# -eq 0 ]; then
  ref=testdata/ljspeech/metadata.csv
  for wav in testdata/ljspeech/wavs/*.wav; do
    printf '%s\t%s\n' "$(basename "$wav" .wav)" "$wav"
  done >"$work/list.tsv"
else
  [ -f "$1" ] || { echo "no such manifest: $1" >&2; exit 1; }
  python3 - "$1" "$work/list.tsv" "$work/ref.tsv" <<'PY'
import json, os, sys
src, out, ref = sys.argv[1:]
base = os.path.dirname(os.path.abspath(src))
with open(src, encoding="utf-8") as f, open(out, "w") as o, open(ref, "w") as r:
    for n, line in enumerate(f, 1):
        if not line.strip():
            continue
        row = json.loads(line)
        audio = row.get("audio_filepath") or row.get("audio")
        if not audio or "text" not in row:
            sys.exit("%s:%d: a row needs audio_filepath (or audio) and text" % (src, n))
        path = audio if os.path.isabs(audio) else os.path.join(base, audio)
        uid = row.get("id") or os.path.splitext(audio)[0]
        o.write("%s\t%s\n" % (uid, path))
        r.write("%s\t%s\n" % (uid, " ".join(row["text"].split())))
PY
  ref=$work/ref.tsv
fi

n=0
while IFS=$'\t' read -r id path; do
  n=$((n + 1))
  sox -D "$path" -r 16000 -b 16 -c 1 "$work/$n.wav"
  printf '%s\t%s\n' "$id" "$work/$n.wav"
done <"$work/list.tsv" >"$work/wavs.tsv"

start=$(date +%s.%N)
while IFS=$'\t' read -r id wav; do
  printf '%s\t%s\n' "$id" "$(pocketsphinx_continuous -infile "$wav" -logfn /dev/null 2>/dev/null | tr '\n' ' ')"
done <"$work/wavs.tsv" >"$work/hyp.tsv"
end=$(date +%s.%N)
[ $# -eq 0 ] && cat "$work/hyp.tsv"
audio=$(cut -f2 "$work/wavs.tsv" | while read -r w; do soxi -D "$w"; done | awk '{s+=$1} END {printf "%.1f", s}')
awk -v a="$audio" -v s="$start" -v e="$end" -v n="$n" 'BEGIN {printf "%d clips: %.1f s for %s s of audio (RTF %.2f)\n", n, e-s, a, (e-s)/a}'
go run ./cmd/asr score "$ref" "$work/hyp.tsv"
