#!/usr/bin/env bash
# Peak memory of `asr transcribe` on long audio: a generated WAV file of
# HOURS hours (default 3) and an endless WAV stream on standard input (a
# header whose sizes are 0xFFFFFFFF, as a program writing to a pipe leaves
# them) stopped after STREAM_MINUTES minutes of audio (default 60). Both are
# real speech: the eight LJSpeech clips of testdata (50 s) at 16 kHz, over
# and over. For each run it prints the peak resident set size (VmHWM) as the
# run goes, every tenth of the audio, so that growth would show, and at the
# end with the wall time. Target: under 300 MB whatever the length.
#
# Usage: bench/memory/run.sh [HOURS] [STREAM_MINUTES] [MODEL_DIR]
#   MODEL_DIR defaults to the bundled model. Needs sox. The 3-hour file takes
#   345 MB in a temporary folder, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
hours="${1:-3}"
minutes="${2:-60}"
model="${3:-}"
export GOMLX_NO_AUTO_INSTALL=1
command -v sox >/dev/null || { echo "sox is missing: apt-get install sox" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/asr" ./cmd/asr
args=(--no-progress --backend go)
if [ -n "$model" ]; then
  args+=(--model "$model")
fi

# 50.3 s of speech as raw 16-bit mono PCM at 16 kHz.
sox testdata/ljspeech/wavs/*.wav -r 16000 -c 1 -b 16 -e signed-integer -t raw "$tmp/clip.raw"
clip_bytes=$(stat -c %s "$tmp/clip.raw")
clip_seconds=$(awk -v b="$clip_bytes" 'BEGIN { printf "%.2f", b / 32000 }')

# watch PID TOTAL_SECONDS LABEL: print VmHWM at every tenth of the audio's
# expected transcription (sampled each second) until the process ends.
watch() {
  local pid=$1 label=$2 last=""
  while kill -0 "$pid" 2>/dev/null; do
    local hwm
    hwm=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$pid/status" 2>/dev/null || true)
    if [ -n "$hwm" ] && [ "$hwm" != "$last" ]; then
      echo "   $label: peak RSS $hwm MB at $(date -u +%T)"
      last=$hwm
    fi
    sleep 10
  done
}

echo "== $(date -u +%FT%TZ) $(nproc) cores, go $(go env GOVERSION), model ${model:-bundled}"
echo "== load before: $(uptime)"

# 1. A file of HOURS hours.
repeats=$(awk -v h="$hours" -v s="$clip_seconds" 'BEGIN { print int(h * 3600 / s + 0.999) }')
sox -t raw -r 16000 -c 1 -b 16 -e signed-integer "$tmp/clip.raw" "$tmp/long.wav" repeat $((repeats - 1))
secs=$(awk -v b="$(stat -c %s "$tmp/long.wav")" 'BEGIN { printf "%.0f", (b - 44) / 32000 }')
echo "== file: $tmp/long.wav, $secs s of audio ($(du -m "$tmp/long.wav" | cut -f1) MB)"
/usr/bin/time -f "%M %e" -o "$tmp/time.file" "$tmp/asr" transcribe "${args[@]}" "$tmp/long.wav" >"$tmp/file.txt" &
pid=$!
sleep 1
watch "$(pgrep -P $pid asr || echo $pid)" "file" &
wait $pid
read -r rss wall <"$tmp/time.file"
echo "== file of $secs s: peak RSS $((rss / 1024)) MB, wall $wall s, $(wc -w <"$tmp/file.txt") words"

# 2. An endless stream on standard input, cut after MINUTES of audio.
header() { printf 'RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data\xff\xff\xff\xff'; }
bytes=$((minutes * 60 * 32000))
( header; while :; do cat "$tmp/clip.raw"; done ) 2>/dev/null | head -c $((44 + bytes)) |
  /usr/bin/time -f "%M %e" -o "$tmp/time.stream" "$tmp/asr" transcribe "${args[@]}" - >"$tmp/stream.txt" &
sleep 2
spid=$(pgrep -n -f "$tmp/asr transcribe" || true)
if [ -n "$spid" ]; then watch "$spid" "stream" & fi
wait
read -r rss wall <"$tmp/time.stream"
echo "== stream of $((minutes * 60)) s: peak RSS $((rss / 1024)) MB, wall $wall s, $(wc -w <"$tmp/stream.txt") words"
echo "== load after: $(uptime)"
