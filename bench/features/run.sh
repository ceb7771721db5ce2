#!/usr/bin/env bash
# Whole-process speed of `asr features --out F.npy FILE` against sphinx_fe (C,
# Debian sphinxbase-utils) computing 80-band log spectra of the same 5-minute
# 16 kHz WAV. Both read the WAV and write their features; times are wall-clock
# seconds of the whole process, best and median of N runs, interleaved so
# that load from other processes hits both alike.
#
#   bench/features/run.sh [RUNS]     (default 7)
#
# ASR=/path/to/asr uses that binary instead of building ./cmd/asr.
# Needs go, sox and sphinx_fe. The WAV is made from the LJSpeech clips in
# testdata (looped, resampled to 16 kHz) in a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-7}
for t in go sox soxi sphinx_fe awk; do
  command -v "$t" >/dev/null || { echo "run.sh: $t is not installed (sphinx_fe: apt-get install sphinxbase-utils)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

asr=${ASR:-$tmp/asr}
[ -n "${ASR:-}" ] || go build -o "$asr" ./cmd/asr
# 5 minutes of real speech: the 8 clips (about 47 s) repeated, at 16 kHz.
clips=(testdata/ljspeech/wavs/*.wav)
all=()
for _ in 1 2 3 4 5 6 7; do all+=("${clips[@]}"); done
sox "${all[@]}" -r 16000 -b 16 -c 1 "$tmp/long.wav" trim 0 300
dur=$(soxi -D "$tmp/long.wav")

now() { date +%s.%N; }
asr_t=() sphinx_t=()
for _ in $(seq "$runs"); do
  s=$(now); "$asr" features --out "$tmp/f.npy" "$tmp/long.wav" 2>/dev/null; e=$(now)
  asr_t+=("$(awk "BEGIN {print $e - $s}")")
  s=$(now)
  sphinx_fe -i "$tmp/long.wav" -o "$tmp/f.logspec" -mswav yes -samprate 16000 -nfilt 80 -ncep 80 \
    -logspec yes -wlen 0.025 -nfft 512 >/dev/null 2>&1
  e=$(now)
  sphinx_t+=("$(awk "BEGIN {print $e - $s}")")
done

stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f", a[1], a[int((NR+1)/2)]}'; }
read -r asr_best asr_med <<<"$(stats "${asr_t[@]}")"
read -r sph_best sph_med <<<"$(stats "${sphinx_t[@]}")"
shape=$(head -c 128 "$tmp/f.npy" | grep -ao "'shape': ([0-9, ]*)" || echo "?")
echo "audio:      ${dur} s of 16 kHz speech ($(du -h "$tmp/long.wav" | cut -f1)); features ${shape}"
echo "machine:    $(nproc) cores, $(uptime | sed 's/.*load average/load average/')"
awk -v d="$dur" -v ab="$asr_best" -v am="$asr_med" -v sb="$sph_best" -v sm="$sph_med" 'BEGIN {
  printf "asr:        best %.3f s, median %.3f s (%.0fx real time)\n", ab, am, d / am
  printf "sphinx_fe:  best %.3f s, median %.3f s (%.0fx real time)\n", sb, sm, d / sm
  printf "ratio:      sphinx_fe time / asr time = %.2f (median), %.2f (best); above 1 means asr is faster\n", sm / am, sb / ab
}'
