#!/usr/bin/env bash
# GPU smoke test of asrkit training, for a GPU machine without internet access
# and without a Go toolchain. Run it from the repository root (it reads the
# LJSpeech clips in testdata/):
#
#   scripts/gpu-smoke.sh ASR_BINARY PLUGIN_PATH
#
#   ASR_BINARY   the asr binary, built elsewhere with cgo (go build ./cmd/asr)
#   PLUGIN_PATH  absolute path of a CUDA PJRT plugin, e.g. the xla_cuda_plugin.so
#                of a pip-installed jax-cuda13-pjrt
#
# It runs `asr devices` on the plugin, then trains the small preset for a few
# hundred steps on XLA CUDA on batches of LJSpeech lengths (the 8 real clips
# of testdata/ljspeech, 1.8 to 9.7 s, listed many times over), and prints the
# graph compile time of each batch shape, the steady-state steps/s and
# audio-seconds/s, an extrapolated time per LJSpeech epoch (24 h of audio),
# and the loss curve. Exit status 0 means everything ran.
#
# Environment (optional): SMOKE_STEPS (300), SMOKE_PRESET (small),
# SMOKE_COPIES (100 copies of each clip), SMOKE_MAX_FRAMES (60000 padded
# frames per batch), SMOKE_OUT (folder for the run, the log and the cache;
# default a temporary folder), SMOKE_BACKEND (instead of xla:PLUGIN_PATH, e.g.
# "go" to try the script on a CPU; PLUGIN_PATH may then be "-").
set -euo pipefail

usage() {
  echo "usage: $0 ASR_BINARY PLUGIN_PATH" >&2
  exit 2
}
[ $# -eq 2 ] || usage
asr=$1
plugin=$2
steps=${SMOKE_STEPS:-300}
preset=${SMOKE_PRESET:-small}
copies=${SMOKE_COPIES:-100}
max_frames=${SMOKE_MAX_FRAMES:-60000}
backend=${SMOKE_BACKEND:-}

case $asr in */*) ;; *) asr=./$asr ;; esac
[ -x "$asr" ] || { echo "gpu-smoke: $asr is not an executable" >&2; exit 2; }
if [ -z "$backend" ]; then
  case $plugin in
    /*) ;;
    *) echo "gpu-smoke: PLUGIN_PATH must be absolute, got $plugin" >&2; exit 2 ;;
  esac
  [ -f "$plugin" ] || { echo "gpu-smoke: no plugin file at $plugin" >&2; exit 2; }
  backend="xla:$plugin"
fi
[ -f testdata/ljspeech/metadata.csv ] || { echo "gpu-smoke: run from the repository root (testdata/ljspeech is missing)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "gpu-smoke: python3 is needed to summarise the training log" >&2; exit 2; }

export GOMLX_NO_AUTO_INSTALL=1
out=${SMOKE_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/gpu-smoke.XXXXXX")}
mkdir -p "$out"
echo "== gpu-smoke: output in $out"

echo "== asr devices --backend $backend"
require=()
case $backend in xla:*) require=(--require-gpu) ;; esac
"$asr" devices --backend "$backend" "${require[@]}"

echo "== corpus: testdata/ljspeech x $copies"
# Manifests: every real clip $copies times for training, once for validation.
python3 - "$out" "$copies" <<'PY'
import json, os, sys
out, copies = sys.argv[1], int(sys.argv[2])
root = os.path.abspath("testdata/ljspeech")
rows = [l.rstrip("\n").split("|") for l in open(os.path.join(root, "metadata.csv"), encoding="utf-8") if l.strip()]
with open(os.path.join(out, "train.jsonl"), "w") as t, open(os.path.join(out, "val.jsonl"), "w") as v:
    for f in rows:
        wav = os.path.join(root, "wavs", f[0] + ".wav")
        for c in range(copies):
            t.write(json.dumps({"id": "%s-%03d" % (f[0], c), "audio_filepath": wav, "text": f[2]}) + "\n")
        v.write(json.dumps({"id": "val-" + f[0], "audio_filepath": wav, "text": f[2]}) + "\n")
PY

cat >"$out/smoke.yaml" <<EOF
datasets:
  manifests:
    train: train.jsonl
    val: val.jsonl
  cache_dir: cache
  batching:
    max_frames: $max_frames
model:
  preset: $preset
train:
  steps: $steps
  learning_rate: 1.0e-3
  warmup_steps: $((steps / 10 + 1))
  eval_every: -1
checkpoint:
  dir: run
  every: $((steps * 10))
log:
  every: 10
EOF

echo "== asr train: $preset, $steps steps, backend $backend"
start=$(date +%s)
"$asr" train --config "$out/smoke.yaml" --backend "$backend" --fresh --force --no-progress 2>&1 | tee "$out/train.log"
echo "== wall time: $(( $(date +%s) - start )) s"

python3 - "$out/run/train.jsonl" <<'PY'
import json, statistics, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
compiles = [e for e in events if e["type"] == "compile"]
metrics = [e for e in events if e["type"] == "metrics"]
evals = [e for e in events if e["type"] == "eval"]
print("== compile time per batch shape (graph build, XLA compilation and first run)")
for e in compiles:
    c = e["compile"]
    print("  %-6s batch %4d x %5d frames: %7.2f s" % (c["graph"], c["batch_size"], c["frames"], c["seconds"]))
print("  total %.1f s" % sum(e["compile"]["seconds"] for e in compiles))
# Steady state: metrics intervals after the last compilation of a training graph.
last_compile = max([e["step"] for e in compiles if e["compile"]["graph"] == "train"] or [0])
steady = [e["metrics"] for e in metrics if e["step"] - e["metrics"]["steps"] >= last_compile] or [e["metrics"] for e in metrics]
if steady:
    steps = sum(m["steps"] for m in steady)
    wall = sum(m["steps"] / m["steps_per_second"] for m in steady if m["steps_per_second"] > 0)
    audio = sum(m["audio_seconds"] for m in steady)
    padded = sum(m["padded_seconds"] for m in steady)
    flops = sum(m["gflops"] * m["steps"] / m["steps_per_second"] for m in steady if m["steps_per_second"] > 0)
    wait = sum(m["data_wait"] for m in steady)
    print("== steady state over %d steps (after step %d)" % (steps, last_compile))
    print("  %.2f steps/s, %.0f audio-s/s (unpadded; %.0f%% of the batches is audio), %.1f model TFLOP/s" % (
        steps / wall, audio / wall, 100 * audio / max(padded, 1e-9), flops / wall / 1e3))
    print("  %.0f%% of the step time was spent waiting for batches" % (100 * wait / max(wall, 1e-9)))
    print("  one LJSpeech epoch (24 h of audio) would take %.1f min" % (24 * 3600 / (audio / wall) / 60))
print("== loss curve (mean per-character CTC loss of each interval)")
for e in metrics:
    m = e["metrics"]
    print("  step %5d  loss %8.4f  lr %.2e  grad-norm %7.3f  %7.0f audio-s/s" % (e["step"], m["loss"], m["learning_rate"], m["grad_norm"], m["audio_seconds_per_second"]))
for e in evals:
    v = e["eval"]
    print("== eval at step %d: WER %.1f%%, CER %.1f%%, loss %.3f on %d clips" % (e["step"], 100 * v["wer"], 100 * v["cer"], v["loss"], v["utterances"]))
if not metrics:
    sys.exit("gpu-smoke: no training metrics were logged")
PY
echo "== gpu-smoke: done"
