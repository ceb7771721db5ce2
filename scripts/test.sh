#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script).
# Installs the Debian packages the tests drive when they are missing, then runs
# go vet, the tests (with -race on packages that do not execute GoMLX graphs),
# a short fuzzing run of the audio decoder, shellcheck and the bats tests of the
# deployment scripts, and the real container test (scripts/container-test.sh).
# Prints the time of each step (and go test's per-package times) and the total.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
times=()
step_start=$start step_name=""
# step NAME: ends the previous step (its time is printed and kept for the
# summary) and starts NAME.
step() {
  local now
  now=$(date +%s)
  if [ -n "$step_name" ]; then
    echo "   ($step_name: $((now - step_start))s)"
    times+=("$(printf '%5ds  %s' $((now - step_start)) "$step_name")")
  fi
  step_start=$now step_name=$1
  [ -z "$1" ] || echo "== $1"
}

export GOMLX_NO_AUTO_INSTALL=1   # never download PJRT plugins
export ASRKIT_REQUIRE_TOOLS=1    # tests that drive a tool fail, not skip, without it
export ASRKIT_REQUIRE_BROWSER=1  # the web interface's test (chromedp) fails, not skips, without Chromium

# command:packages (joined with +) that the tests need.
tools=(sox:sox espeak-ng:espeak-ng sctk:sctk ffmpeg:ffmpeg sphinx_lm_eval:sphinxbase-utils shellcheck:shellcheck bats:bats sphinx_fe:sphinxbase-utils flite:flite text2wave:festival+festvox-kallpc16k+festvox-kdlpc16k+festvox-us-slt-hts
  rsync:rsync curl:curl podman:podman runc:runc docker-compose:docker-compose mmdebstrap:mmdebstrap chromium:chromium)
missing=()
for t in "${tools[@]}"; do
  if ! command -v "${t%%:*}" >/dev/null 2>&1; then
    IFS=+ read -r -a pkgs <<<"${t#*:}"
    missing+=("${pkgs[@]}")
  fi
done
# Container name resolution between compose services (podman's CNI backend).
[ -e /usr/lib/cni/dnsname ] || missing+=(golang-github-containernetworking-plugin-dnsname)
# Python modules: numpy reads the safetensors files (internal/tensorfile's
# test tries python3, then the system's /usr/bin/python3).
if ! python3 -c 'import numpy' >/dev/null 2>&1 && ! /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1; then
  missing+=(python3-numpy)
fi
if [ ${#missing[@]} -gt 0 ]; then
  step "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

step "go vet"
go vet ./...

# Packages that execute GoMLX graphs are 5-10x slower under -race: run them without it.
race=() plain=()
while read -r pkg deps; do
  case " $deps " in
    *" github.com/gomlx/gomlx/pkg/core/graph "*) plain+=("$pkg") ;;
    *) race+=("$pkg") ;;
  esac
done < <(go list -f '{{.ImportPath}} {{join .Deps " "}}' ./...)

status=0
if [ ${#race[@]} -gt 0 ]; then
  step "go test -race (${#race[@]} packages)"
  go test -race -timeout 15m "${race[@]}" || status=1
fi
if [ ${#plain[@]} -gt 0 ]; then
  step "go test (${#plain[@]} packages that execute GoMLX graphs)"
  go test -timeout 20m "${plain[@]}" || status=1
fi

if go list ./asr/features >/dev/null 2>&1 && grep -qs 'func FuzzDecode' asr/features/*_test.go; then
  step "fuzz asr/features FuzzDecode (20s)"
  go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 20s ./asr/features || status=1
fi

step "shellcheck"
shellcheck run.sh scripts/*.sh scripts/docker/*.sh scripts/tests/*.bats scripts/tests/helpers.bash scripts/tests/stubs/* || status=1

step "bats scripts/tests (run.sh and the deployment scripts, with stand-ins for ssh, rsync, docker)"
bats scripts/tests || status=1

# The Dockerfile and docker-compose.yml with a real container engine (podman):
# a few minutes; the first run on a machine also makes the base images.
step "container test (scripts/container-test.sh)"
scripts/container-test.sh || status=1
step ""

echo "== times"
printf '%s\n' "${times[@]}"
echo "== total $(( $(date +%s) - start ))s$([ "$status" = 0 ] || echo ', FAILED')"
exit $status
