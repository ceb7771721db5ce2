#!/usr/bin/env bash
# The real container test of the deployment (scripts/test.sh runs it): builds
# the Dockerfile and runs docker-compose.yml with a real container engine,
# without a registry, a GPU or Docker:
#
#   - podman (rootful, runc; the settings this sandbox allows are in
#     scripts/containers/containers.conf, used through CONTAINERS_CONF) serves
#     a Docker-compatible API (`podman system service`) on a private socket;
#   - Debian base images are made locally with mmdebstrap and `podman import`:
#     a runtime image (minbase) and a build image (minbase + gcc + this
#     machine's Go toolchain and CA certificates, so `go mod download` reaches
#     the same module proxy as the host); their tarballs are cached in
#     ~/.cache/asrkit/containers (ASRKIT_CACHE), so later runs skip mmdebstrap;
#   - docker-compose (v1, from Debian) with DOCKER_HOST on that socket builds
#     the image from the Dockerfile (WITH_CUDA=0: the CUDA stage needs pip and
#     a GPU) with scripts/containers/compose.test.yml, and brings the services
#     up; podman cannot run healthchecks by itself here (no systemd), so this
#     script runs `podman healthcheck run` in a loop while it waits.
#
# Checks: the image (non-root user, entrypoint asr, environment, a writable
# checkpoint volume), asr devices (and --require-gpu failing without a GPU),
# a transcription inside the container equal to the host binary's. When the
# binary has `asr serve` and `asr healthcheck`: serve refusing a root-owned
# checkpoint volume with the chown fix; the compose services healthy, /healthz
# and a transcription through host port 58081, scripts/running_jobs.sh against
# the real API; a redeploy with a training job running (running_jobs.sh sees
# it, `compose stop` exits 0 after a checkpoint, `compose up` resumes the job
# from that checkpoint with --resume-jobs); with `asr gui`, the GUI through
# 58080 (/healthz, the page, /v1 through its proxy, a transcription); the
# image's default config accepted by a dry run with an LJSpeech-1.1 folder in
# the data volume; then a clean `compose stop` (every service exits
# with status 0) and `down`. Checks of commands the binary lacks are reported
# as skipped.
#
# Needs root and: podman runc docker-compose mmdebstrap curl go (scripts/test.sh
# installs them). Prints the time of each phase.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

t0=$(date +%s)
tp=$t0
lap() { # lap WHAT: prints the time since the previous lap
  local t
  t=$(date +%s)
  printf '   %-58s %4ds\n' "$1" $((t - tp))
  tp=$t
}
fail() {
  echo "container-test: FAIL: $*" >&2
  exit 1
}
skip() { echo "container-test: SKIP: $*"; }

[ "$(id -u)" -eq 0 ] || fail "run as root (rootful podman and mmdebstrap)"
for t in podman runc docker-compose mmdebstrap curl go; do
  command -v "$t" >/dev/null || fail "$t is not installed (apt-get install podman runc docker-compose mmdebstrap curl golang-github-containernetworking-plugin-dnsname)"
done

export CONTAINERS_CONF=$repo/scripts/containers/containers.conf
export GOMLX_NO_AUTO_INSTALL=1
project=asrkit-ctest
cache=${ASRKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/asrkit}/containers
mkdir -p "$cache/debs"
work=$(mktemp -d "${TMPDIR:-/tmp}/asrkit-ctest.XXXXXX")
service_pid="" pump_pid="" up=0

# Compose v1 against podman, with the test's override.
dc() { docker-compose -p "$project" -f docker-compose.yml -f scripts/containers/compose.test.yml "$@"; }

cleanup() {
  local rc=$?
  set +e
  if [ "$up" = 1 ]; then
    dc down --remove-orphans -t 10 >>"$work/compose.log" 2>&1
  fi
  if [ -n "$pump_pid" ]; then kill "$pump_pid" 2>/dev/null; wait "$pump_pid" 2>/dev/null; fi
  if [ -n "$service_pid" ]; then kill "$service_pid" 2>/dev/null; wait "$service_pid" 2>/dev/null; fi
  # Old builds of the image leave untagged layers behind: remove them.
  podman image prune -f >/dev/null 2>&1
  if [ "$rc" -ne 0 ]; then
    echo "container-test: logs:" >&2
    for f in "$work"/*.log; do
      [ -s "$f" ] || continue
      echo "--- $(basename "$f") (last 40 lines)" >&2
      tail -n 40 "$f" >&2
    done
  fi
  rm -rf "$work"
  echo "== container test: $(($(date +%s) - t0))s in all"
}
trap cleanup EXIT

echo "== container test (podman $(podman version --format '{{.Client.Version}}'), $(docker-compose version --short))"

# ---- base images ------------------------------------------------------------
goroot=$(go env GOROOT)
gover=$(go env GOVERSION)
ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca" ] || fail "no CA bundle at $ca (set SSL_CERT_FILE)"
recipe=2 # change when the mmdebstrap recipe below changes
key=$(printf '%s %s %s\n' "$recipe" "$gover" "$(sha256sum <"$ca")" | sha256sum | cut -c1-12)
runtime_image=localhost/asrkit-test-runtime:bookworm-$key
build_image=localhost/asrkit-test-build:bookworm-$gover-$key
runtime_tar=$cache/runtime-$key.tar
build_tar=$cache/build-$key.tar

if podman image exists "$runtime_image" && podman image exists "$build_image"; then
  lap "base images: in podman's storage"
else
  if [ ! -f "$runtime_tar" ] || [ ! -f "$build_tar" ]; then
    # One mmdebstrap run: the minbase tree is tarred as the runtime image,
    # then gcc, libc6-dev, ca-certificates, the host's CA bundle and Go are
    # added for the build image. Downloaded .debs are kept in $cache/debs.
    rm -f "$cache"/runtime-*.tar "$cache"/build-*.tar
    [[ "$cache$work$goroot$ca" != *[[:space:]]* ]] || fail "mmdebstrap hooks cannot take paths with spaces: $cache, $work, $goroot, $ca"
    # shellcheck disable=SC2016 # mmdebstrap expands "$1" (the new root) itself
    mmdebstrap --quiet --variant=minbase --skip=essential/unlink \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
      --setup-hook="sync-in $cache/debs /var/cache/apt/archives/" \
      --customize-hook="tar -C \"\$1\" --one-file-system --exclude=./var/lib/apt/lists/* --exclude=./var/cache/apt/*.bin --exclude=./var/cache/apt/archives/*.deb -cf $work/runtime.tar ." \
      --customize-hook='chroot "$1" apt-get install -y -q --no-install-recommends gcc libc6-dev ca-certificates' \
      --customize-hook="sync-out /var/cache/apt/archives $cache/debs" \
      --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/*' \
      --customize-hook="upload $ca /etc/ssl/certs/ca-certificates.crt" \
      --customize-hook="copy-in $goroot /usr/local" \
      bookworm "$work/build.tar" >"$work/mmdebstrap.log" 2>&1 || fail "mmdebstrap could not make the base images"
    rm "$work/mmdebstrap.log"
    mv "$work/runtime.tar" "$runtime_tar"
    mv "$work/build.tar" "$build_tar"
    lap "base images: mmdebstrap (cached in $cache)"
  fi
  gobin=/usr/local/$(basename "$goroot")/bin
  podman import -q --change 'CMD ["/bin/bash"]' "$runtime_tar" "$runtime_image" >/dev/null
  podman import -q --change "ENV PATH=$gobin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change 'CMD ["/bin/bash"]' "$build_tar" "$build_image" >/dev/null
  lap "base images: podman import"
fi

# ---- the Docker API ---------------------------------------------------------
sock=$work/podman.sock
podman system service --time=0 "unix://$sock" >"$work/podman-service.log" 2>&1 &
service_pid=$!
export DOCKER_HOST=unix://$sock
for _ in $(seq 1 100); do
  if curl -fsS --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fsS --unix-socket "$sock" http://d/_ping >/dev/null || fail "podman system service did not answer on $sock"
# Healthchecks, in place of podman's systemd timers.
(
  while sleep 1; do
    for c in $(podman ps -q --filter "label=com.docker.compose.project=$project" --filter health=starting) \
      $(podman ps -q --filter "label=com.docker.compose.project=$project" --filter health=unhealthy); do
      podman healthcheck run "$c" >/dev/null 2>&1 || true
    done
  done
) &
pump_pid=$!
lap "podman system service"

# ---- build ------------------------------------------------------------------
mkdir -p "$work/data" "$work/checkpoints"
chown 1000:1000 "$work/data" "$work/checkpoints" # the image's user (ASR_UID)
export ASR_TEST_DIR=$work ASR_TEST_BUILD_IMAGE=$build_image ASR_TEST_RUNTIME_IMAGE=$runtime_image
ASR_TEST_GOPROXY=$(go env GOPROXY)
export ASR_TEST_GOPROXY
# Anything left from an interrupted run.
dc down --remove-orphans -t 5 >"$work/compose.log" 2>&1 || true
dc build asr-api >"$work/build.log" 2>&1 || fail "docker-compose build failed (build.log)"
lap "docker-compose build (Dockerfile, WITH_CUDA=0)"

# ---- the image --------------------------------------------------------------
image=$(podman images -q --filter reference=asr-app:latest | head -n 1)
[ -n "$image" ] || fail "no asr-app image after the build"
user=$(podman image inspect --format '{{.Config.User}}' "$image")
entry=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$image")
env=$(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image")
[ "$user" = asr ] || fail "the image runs as '$user', want asr"
[ "$entry" = '["asr"]' ] || fail "the image's entrypoint is $entry, want [\"asr\"]"
grep -qx GOMLX_NO_AUTO_INSTALL=1 <<<"$env" || fail "GOMLX_NO_AUTO_INSTALL=1 is not set in the image: $env"
grep -qx GOMLX_BACKEND=go <<<"$env" || fail "GOMLX_BACKEND=go is not set in the WITH_CUDA=0 image: $env"

# run ARGS...: asr ARGS in a one-off asr-api container (the compose service's volumes).
run() { dc run --rm --no-deps -T "$@"; }
# One container for the checks of the image from inside, as the service's
# user with its volumes (docker-compose run reports on stderr: run.log).
# shellcheck disable=SC2016 # the script runs in the container
out=$(run --entrypoint sh asr-api -c '
  echo "version=$(asr --version)"
  echo "id=$(id)"
  if touch /app/checkpoints/.w && rm /app/checkpoints/.w; then echo "writable=yes"; fi
  asr devices --size 64 | sed "s/^/devices: /"
  asr devices --require-gpu >/dev/null 2>/tmp/err; echo "require-gpu=$? $(cat /tmp/err)"
  for c in serve healthcheck gui; do asr help "$c" >/dev/null 2>&1 && echo "command=$c"; done
  exit 0' 2>>"$work/run.log") || fail "the checks in a one-off container failed (run.log)"
field() { sed -n "s/^$1=//p" <<<"$out"; }
[ "$(field version)" = "asr version container-test" ] || fail "asr --version printed '$(field version)'"
[[ $(field id) == "uid=1000(asr) gid=1000(asr)"* ]] || fail "the container runs as $(field id)"
[ "$(field writable)" = yes ] || fail "/app/checkpoints is not writable by the service's user"
grep -q '^devices: backend: *go' <<<"$out" || fail "asr devices did not select the go backend: $out"
[[ $(field require-gpu) == "1 "*"no GPU backend"* ]] || fail "asr devices --require-gpu without a GPU: $(field require-gpu)"
commands=$(field command | tr '\n' ' ')
lap "image: user, volume, entrypoint, environment, asr devices"

clip=ljspeech/wavs/LJ001-0002.wav
go build -o "$work/asr" ./cmd/asr
want=$("$work/asr" transcribe "testdata/$clip" 2>/dev/null) || fail "the host's asr could not transcribe testdata/$clip"
got=$(run -v "$repo/testdata:/testdata:ro" asr-api transcribe "/testdata/$clip" 2>"$work/transcribe.log") ||
  fail "asr transcribe in the container failed (transcribe.log)"
[ "$got" = "$want" ] || fail "the container transcribed '$got', the host binary '$want'"
echo "   transcript of $clip: \"$got\" (same as the host binary)"
lap "image: asr transcribe"

# ---- the services -------------------------------------------------------------
has() { [[ " $commands" == *" $1 "* ]]; }
if ! has serve || ! has healthcheck; then
  skip "this asr has no 'serve' or 'healthcheck' command yet: the compose services, /healthz, the API and the GUI are not checked"
  exit 0
fi
services=(asr-api)
gui=0
if has gui; then services+=(frontend) gui=1; fi
for port in 58081 58080; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "port $port is in use on this machine; the compose services need it"
  fi
done
# A checkpoint volume the service's user cannot write (docker creates a
# missing ./checkpoints as root): the server refuses to start and says how
# to fix the ownership.
mkdir -p "$work/root-owned"
rc=0
out=$(timeout 120 podman run --rm --name "$project-root-owned" -v "$work/root-owned:/app/checkpoints" "$image" \
  serve --listen=:8000 --data-root=/app/data --checkpoint-root=/app/checkpoints 2>&1) || rc=$?
podman rm -f "$project-root-owned" >/dev/null 2>&1 || true
if [ "$rc" = 0 ] || [ "$rc" = 124 ] || ! grep -qF 'sudo chown -R 1000:1000 ./checkpoints' <<<"$out"; then
  fail "asr serve with a root-owned checkpoint volume: exit $rc, want an error with the chown fix: $out"
fi
lap "asr serve refuses a checkpoint volume it cannot write, with the fix"

# Data for a training job: the tiny config's manifests and clips, laid out
# under the data root as in the repository.
mkdir -p "$work/data/examples/configs" "$work/data/testdata"
cp -r examples/configs/tiny-cpu "$work/data/examples/configs/"
cp -r testdata/corpus testdata/ljspeech "$work/data/testdata/"
# An LJSpeech-1.1 in the data volume (8 clips, the real layout), for the
# image's default config.
cp -r testdata/ljspeech "$work/data/LJSpeech-1.1"
chown -R 1000:1000 "$work/data"
# The services run with a token, as with ASR_API_TOKEN in .env: every /v1
# request below sends it (from a file, never on a command line), and the GUI
# must forward it.
ASR_API_TOKEN=ctest-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
export ASR_API_TOKEN
printf 'Authorization: Bearer %s\n' "$ASR_API_TOKEN" >"$work/auth"
auth=(-H "@$work/auth")
up=1
dc up -d "${services[@]}" >>"$work/compose.log" 2>&1 || fail "docker-compose up failed (compose.log)"
# wait_healthy: waits until every service is healthy (the pump runs the checks).
wait_healthy() {
  local s id h=""
  for s in "${services[@]}"; do
    id=$(dc ps -q "$s")
    [ -n "$id" ] || fail "no container for $s"
    for _ in $(seq 1 180); do
      h=$(podman inspect --format '{{.State.Health.Status}}' "$id" 2>/dev/null || echo gone)
      [ "$h" = healthy ] && break
      [ "$(podman inspect --format '{{.State.Running}}' "$id" 2>/dev/null)" = true ] || break
      sleep 1
    done
    if [ "$h" != healthy ]; then
      podman logs "$id" >"$work/$s.log" 2>&1 || true
      fail "$s did not become healthy (status $h; $s.log)"
    fi
  done
}
wait_healthy
lap "docker-compose up: ${services[*]} healthy"

curl -fsS -m 10 http://127.0.0.1:58081/healthz >"$work/healthz.out" || fail "GET /healthz on host port 58081 failed"
check_transcribe() { # check_transcribe BASE_URL
  local body
  body=$(curl -fsS -m 60 "${auth[@]}" --data-binary "@testdata/$clip" -H 'Content-Type: application/octet-stream' "$1/v1/transcribe") ||
    fail "POST $1/v1/transcribe failed"
  grep -qF "\"text\":\"$want\"" <<<"${body//\": \"/\":\"}" || fail "POST $1/v1/transcribe answered $body, want text \"$want\""
}
check_transcribe http://127.0.0.1:58081
api=http://127.0.0.1:58081
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$api/v1/train") || fail "GET /v1/train without the token failed"
[ "$code" = 401 ] || fail "GET /v1/train without the token answered $code, want 401 (ASR_API_TOKEN)"
out=$(sh scripts/running_jobs.sh "$api") || fail "running_jobs.sh against the real API: exit $?, $out"
[ "$out" = "running_jobs: no training job is running" ] || fail "running_jobs.sh against the real API said: $out"
lap "API on :58081: /healthz, /v1/transcribe, /v1/train (running_jobs.sh), the token"
if [ "$gui" = 1 ]; then
  curl -fsS -m 10 http://127.0.0.1:58080/healthz >/dev/null || fail "GET /healthz of the GUI (the API through its proxy) on host port 58080 failed"
  page=$(curl -fsS -m 10 http://127.0.0.1:58080/) || fail "GET / (the GUI) on host port 58080 failed"
  grep -qi '<html' <<<"$page" || fail "the GUI's / is not an HTML page"
  curl -fsS -m 10 "${auth[@]}" http://127.0.0.1:58080/v1/train >/dev/null || fail "GET /v1/train through the GUI's proxy failed"
  check_transcribe http://127.0.0.1:58080
  code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:58080/v1/train) || fail "GET /v1/train through the GUI without the token failed"
  [ "$code" = 401 ] || fail "GET /v1/train through the GUI without the token answered $code, want 401"
  lap "GUI on :58080: /healthz, the page, /v1 through its proxy (the token forwarded)"
else
  skip "this asr has no 'gui' command yet: the frontend service is not checked"
fi
# The image's default config (README: training from the GUI) is accepted by
# the API as it is: the dataset in ./data/LJSpeech-1.1, the run directory in
# ./checkpoints/ljspeech-small (a dry run: nothing starts).
base=$api
[ "$gui" = 0 ] || base=http://127.0.0.1:58080
curl -fsS -m 10 "${auth[@]}" "$base/v1/datasets" | grep -qF 'LJSpeech-1.1' || fail "GET $base/v1/datasets does not list LJSpeech-1.1 (the data volume)"
podman exec "$(dc ps -q asr-api)" cat /app/examples/configs/ljspeech-gpu.yaml >"$work/default.yaml" ||
  fail "no default config /app/examples/configs/ljspeech-gpu.yaml in the image"
code=$(curl -sS -m 30 "${auth[@]}" -o "$work/check.json" -w '%{http_code}' --data-binary "@$work/default.yaml" "$base/v1/train?dry_run=true") ||
  fail "POST $base/v1/train?dry_run=true failed"
[ "$code" = 200 ] || fail "the image's default config: POST /v1/train?dry_run=true answered $code: $(cat "$work/check.json")"
run_dir=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("run_dir", ""))' "$work/check.json")
[ "$run_dir" = /app/checkpoints/ljspeech-small ] || fail "the default config's run directory is '$run_dir', want /app/checkpoints/ljspeech-small"
lap "the image's default config: LJSpeech-1.1 listed, accepted (dry run)"

# A redeploy with a training job running: run.sh's guard sees it, `compose
# stop` makes it checkpoint, and asr serve --resume-jobs resumes it.
job() { # job FIELD: a field of the job's state (GET /v1/train/ctest)
  curl -fsS -m 10 "${auth[@]}" "$api/v1/train/ctest" | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"
}
wait_job() { # wait_job SECONDS STATE...: waits until the job is in one of the states
  local limit=$1 st=""
  shift
  for _ in $(seq 1 "$limit"); do
    st=$(job state 2>/dev/null || true)
    [[ " $* " == *" $st "* ]] && return 0
    [[ $st != failed ]] || fail "the training job failed: $(job error)"
    sleep 1
  done
  fail "the training job is '$st' after ${limit}s, want one of: $*"
}
sed -e 's/^  steps: .*/  steps: 100000/' -e 's/^  every: 20$/  every: 5/' examples/configs/serve-tiny.yaml >"$work/job.yaml"
code=$(curl -sS -m 30 "${auth[@]}" -o "$work/job.json" -w '%{http_code}' --data-binary "@$work/job.yaml" "$api/v1/train?name=ctest") ||
  fail "POST /v1/train failed"
[ "$code" = 201 ] || fail "POST /v1/train answered $code: $(cat "$work/job.json")"
wait_job 240 training
rc=0
out=$(sh scripts/running_jobs.sh "$api") || rc=$?
[ "$rc" = 3 ] || fail "running_jobs.sh did not see the running job (exit $rc): $out"
lap "a training job in the container; running_jobs.sh sees it"
for _ in $(seq 1 120); do
  [ -n "$(job checkpoint)" ] && break
  sleep 1
done
[ -n "$(job checkpoint)" ] || fail "the training job wrote no checkpoint in 120 s"
api_id=$(dc ps -q asr-api)
dc stop -t 60 >>"$work/compose.log" 2>&1 || fail "docker-compose stop (with a job) failed"
code=$(podman inspect --format '{{.State.ExitCode}}' "$api_id")
[ "$code" = 0 ] || fail "asr-api exited with status $code on SIGTERM while training"
step=$(find "$work/checkpoints/ctest" -maxdepth 2 -name 'step-*' -type d -printf '%f\n' | sed 's/^step-//' | sort -n | tail -n 1)
[ -n "$step" ] || fail "no checkpoint in the run directory after the stop"
step=$((10#$step)) # step-000000074
lap "docker-compose stop with a job: exit 0, newest checkpoint step $step"
dc up -d "${services[@]}" >>"$work/compose.log" 2>&1 || fail "docker-compose up (after the stop) failed"
wait_healthy
wait_job 240 training evaluating
# The trainer logs the step it resumed from in train.jsonl's state events.
resumed=$(python3 -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "resumed": yield v
            else: yield from find(v)
    elif isinstance(o, list):
        for v in o: yield from find(v)
print(max([r for l in open(sys.argv[1]) if l.strip() for r in find(json.loads(l))] or [0]))' "$work/checkpoints/ctest/train.jsonl")
[ "$resumed" = "$step" ] || fail "the job resumed from step $resumed, want the checkpoint's $step"
curl -fsS -m 10 "${auth[@]}" -X POST "$api/v1/train/ctest/stop" >/dev/null || fail "POST /v1/train/ctest/stop failed"
wait_job 120 stopped
lap "docker-compose up: the job resumed from step $resumed (--resume-jobs), then stopped"

# A clean stop: on SIGTERM every service exits by itself with status 0
# (a process killed at the end of the 60 s allowed here exits with 137).
ids=$(dc ps -q)
dc stop -t 60 >>"$work/compose.log" 2>&1 || fail "docker-compose stop failed"
for id in $ids; do
  code=$(podman inspect --format '{{.State.ExitCode}}' "$id")
  [ "$code" = 0 ] || fail "container $(podman inspect --format '{{.Name}}' "$id") exited with status $code on SIGTERM"
done
lap "docker-compose stop: every service exited with status 0"
dc down --remove-orphans >>"$work/compose.log" 2>&1 || fail "docker-compose down failed"
up=0
[ -z "$(podman ps -aq --filter "label=com.docker.compose.project=$project")" ] || fail "containers are left after docker-compose down"
lap "docker-compose down"
