#!/usr/bin/env bash
# The bundled model's accuracy table (README "The bundled model"): corpus
# WER and CER of a model, greedy and with its language model, on
#   - the 8 real LJSpeech clips in testdata (a voice not in training),
#   - the held-out real speakers, per corpus (manifests written by
#     `go run ./recipes/bundled/splitreal -manifests data/real-eval`),
#   - the held-out synthetic test split (rendered by the command in
#     recipes/bundled/README.md into data/synthetic-test).
# Sets whose files are missing are skipped with a note. Prints a Markdown
# table. PocketSphinx on the same audio: bench/compare/pocketsphinx.sh [MANIFEST].
#
# Usage: recipes/bundled/evaluate.sh [--asr BIN] [--model DIR] [-- extra asr eval flags]
#   --asr    the asr binary (default: go build -o into a temporary folder)
#   --model  the model directory (default: the bundled model)
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOMLX_NO_AUTO_INSTALL=1

asr="" model=""
while [ $# -gt 0 ]; do
  case "$1" in
    --asr) asr=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$asr" ]; then
  go build -o "$work/asr" ./cmd/asr
  asr=$work/asr
fi
modelflag=()
[ -n "$model" ] && modelflag=(--model "$model")

# rate SET... : "WER% / CER%" of one asr eval run (its JSON report).
rate() {
  "$asr" eval "${modelflag[@]}" --no-progress --json "$@" 2>"$work/err" >"$work/out" || {
    echo "asr eval $* failed:" >&2; cat "$work/err" >&2; exit 1; }
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f%% / %.2f%% (%d words)" % (100*d["wer"], 100*d["cer"], d["words"]["hits"]+d["words"]["substitutions"]+d["words"]["deletions"]))' "$work/out"
}

row() { # name, set flags...
  local name=$1; shift
  printf '| %s | %s | %s |\n' "$name" "$(rate "$@" "${extra[@]}")" "$(rate --no-lm "$@")"
}

extra=("$@")
echo "| Set | WER / CER, default decoding (beam + LM) | WER / CER, greedy (--no-lm) |"
echo "|---|---|---|"
row "8 real LJSpeech clips (testdata)" --ljspeech testdata/ljspeech
for m in data/real-eval/test-*.jsonl; do
  [ -f "$m" ] || { echo "(no held-out real manifests in data/real-eval: run recipes/bundled/splitreal)" >&2; break; }
  c=$(basename "$m" .jsonl); c=${c#test-}
  row "held-out real speakers: $c" --manifest "$m"
done
[ -f data/real-eval/test.jsonl ] && row "held-out real speakers: all" --manifest data/real-eval/test.jsonl
if [ -f data/synthetic-test/metadata.csv ]; then
  row "held-out synthetic test split" --ljspeech data/synthetic-test
else
  echo "(no data/synthetic-test/metadata.csv: render it as recipes/bundled/README.md says)" >&2
fi
