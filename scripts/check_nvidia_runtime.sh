#!/usr/bin/env bash
# Checks that this machine can run asrkit's GPU containers: the NVIDIA driver
# works and is new enough for the CUDA 13 PJRT plugin in the asr-app image,
# the NVIDIA Container Toolkit is installed, Docker knows the nvidia runtime,
# and a CUDA container sees the GPU. run.sh runs it on the server (step 6);
# run it by hand on a new server first:
#
#   bash scripts/check_nvidia_runtime.sh
#
# Every check prints "ok" or "FAIL" with how to fix it; the exit status is 1
# when any check failed.
# Environment: MIN_DRIVER (580: CUDA 13 needs an R580 driver or newer),
# MIN_CUDA (13.0), CUDA_TEST_IMAGE (nvidia/cuda:13.0.0-base-ubuntu24.04),
# CHECK_TIMEOUT (seconds for the test container, 600: it may be pulled first).
set -uo pipefail

min_driver=${MIN_DRIVER:-580}
min_cuda=${MIN_CUDA:-13.0}
image=${CUDA_TEST_IMAGE:-nvidia/cuda:13.0.0-base-ubuntu24.04}
limit=${CHECK_TIMEOUT:-600}
fails=0

ok() { printf 'ok    %s\n' "$*"; }
fail() { # fail WHAT FIX...
  printf 'FAIL  %s\n' "$1"
  shift
  local l
  for l in "$@"; do printf '      fix: %s\n' "$l"; done
  fails=$((fails + 1))
}
skip() { printf 'skip  %s\n' "$*"; }
toolkit_url=https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html
driver_url=https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/

# 1. The driver.
driver=""
if ! command -v nvidia-smi >/dev/null 2>&1; then
  fail "nvidia-smi is not installed: no NVIDIA driver on this machine" \
    "install an NVIDIA driver >= $min_driver (Ubuntu: sudo ubuntu-drivers install, or sudo apt install nvidia-driver-${min_driver}-server), then reboot" \
    "see $driver_url"
elif ! out=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1) || [ -z "$out" ]; then
  fail "nvidia-smi does not work: ${out:-no GPU listed}" \
    "the driver is not loaded or does not match the kernel: reboot after installing or upgrading it; check 'lsmod | grep nvidia' and 'sudo dmesg | grep -i nvidia'"
else
  ok "nvidia-smi: $(wc -l <<<"$out" | tr -d ' ') GPU(s), the first: $(head -n 1 <<<"$out")"
  driver=$(echo "$out" | head -n 1 | awk -F', *' '{print $NF}')
fi

# 2. New enough for the plugin's CUDA.
if [ -n "$driver" ]; then
  major=${driver%%.*}
  if ! [[ $major =~ ^[0-9]+$ ]]; then
    fail "cannot read the driver version from nvidia-smi ('$driver')" "check 'nvidia-smi --query-gpu=driver_version --format=csv'"
  elif ((major < min_driver)); then
    fail "driver $driver is too old: the CUDA $min_cuda plugin needs >= $min_driver" \
      "upgrade the driver (Ubuntu: sudo apt install nvidia-driver-${min_driver}-server), then reboot; see $driver_url"
  else
    cuda=$(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: *[0-9.]*' | grep -o '[0-9.]*$' | head -n 1)
    if [ -n "$cuda" ] && [ "$(printf '%s\n%s\n' "$min_cuda" "$cuda" | sort -V | head -n 1)" != "$min_cuda" ]; then
      fail "driver $driver supports CUDA $cuda, the plugin needs $min_cuda" \
        "upgrade the driver to >= $min_driver, then reboot; see $driver_url"
    else
      ok "driver $driver${cuda:+ (CUDA $cuda)} >= $min_driver"
    fi
  fi
else
  skip "driver version (no working nvidia-smi)"
fi

# 3. The NVIDIA Container Toolkit.
if command -v nvidia-ctk >/dev/null 2>&1; then
  ok "NVIDIA Container Toolkit: $(nvidia-ctk --version 2>/dev/null | head -n 1)"
elif command -v nvidia-container-cli >/dev/null 2>&1; then
  ok "NVIDIA Container Toolkit: nvidia-container-cli $(nvidia-container-cli --version 2>/dev/null | head -n 1)"
else
  fail "the NVIDIA Container Toolkit is not installed (no nvidia-ctk)" \
    "add NVIDIA's apt repository and run: sudo apt-get install -y nvidia-container-toolkit" \
    "then: sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker" \
    "see $toolkit_url"
fi

# 4. Docker, its compose plugin, and its nvidia runtime.
docker_ok=0
if ! command -v docker >/dev/null 2>&1; then
  fail "docker is not installed" "install Docker Engine: https://docs.docker.com/engine/install/"
elif ! runtimes=$(docker info --format '{{json .Runtimes}}' 2>&1); then
  fail "docker info failed: $(echo "$runtimes" | tail -n 1)" \
    "start Docker (sudo systemctl start docker), and let this user run it: sudo usermod -aG docker \$USER, then log in again"
else
  docker_ok=1
  if [[ $runtimes == *'"nvidia"'* ]]; then
    ok "docker runtimes include nvidia"
  else
    fail "docker has no nvidia runtime (runtimes: $runtimes)" \
      "sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker"
  fi
  if v=$(docker compose version 2>&1); then
    ok "$v"
  else
    fail "docker compose (v2) is not available: $(echo "$v" | tail -n 1)" \
      "install the compose plugin: sudo apt-get install -y docker-compose-plugin (Docker's apt repository)"
  fi
fi

# 5. A CUDA container sees the GPU.
if [ "$docker_ok" = 1 ]; then
  to=()
  if command -v timeout >/dev/null 2>&1; then to=(timeout "$limit"); fi
  if out=$("${to[@]}" docker run --rm --gpus all "$image" nvidia-smi -L 2>&1) && grep -q '^GPU [0-9]' <<<"$out"; then
    ok "a CUDA container ($image) sees: $(grep '^GPU [0-9]' <<<"$out" | head -n 1)"
  else
    fail "a CUDA container does not see the GPU: docker run --rm --gpus all $image nvidia-smi -L said: $(echo "$out" | tail -n 3 | tr '\n' ' ')" \
      "sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker, and check the toolkit: $toolkit_url" \
      "if the image cannot be pulled, set CUDA_TEST_IMAGE to a CUDA image this server has"
  fi
else
  skip "CUDA container (Docker does not work)"
fi

if ((fails > 0)); then
  echo "check_nvidia_runtime: $fails check(s) failed; fix them as shown above and run again"
  exit 1
fi
echo "check_nvidia_runtime: this machine can run GPU containers"
