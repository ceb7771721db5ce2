#!/usr/bin/env bats
# scripts/check_nvidia_runtime.sh with stand-ins for nvidia-smi, nvidia-ctk and
# docker; a tool taken out of $BIN is "not installed" (PATH=$BIN).

load helpers

setup() {
  setup_stubs
  unset MIN_DRIVER MIN_CUDA CUDA_TEST_IMAGE
  touch "$BATS_TEST_TMPDIR/docker-compose.yml"
  cd "$BATS_TEST_TMPDIR" || exit
}

check() { PATH=$BIN bash "$REPO/scripts/check_nvidia_runtime.sh"; }

@test "a ready GPU server passes every check" {
  run check
  [ "$status" -eq 0 ]
  [ "$(grep -c '^ok ' <<<"$output")" -eq 6 ]
  [[ $output == *"ok    driver 580.95.05 (CUDA 13.0) >= 580"* ]]
  [[ $output == *"this machine can run GPU containers"* ]]
  grep -qxF 'docker run --rm --gpus all nvidia/cuda:13.0.0-base-ubuntu24.04 nvidia-smi -L' "$STUB_LOG"
}

@test "no driver: says how to install one" {
  remove_tool nvidia-smi
  run check
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL  nvidia-smi is not installed"* ]]
  [[ $output == *"fix: install an NVIDIA driver >= 580"* ]]
  [[ $output == *"skip  driver version"* ]]
}

@test "a driver that does not answer" {
  STUB_NVSMI_FAIL=1 run check
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL  nvidia-smi does not work: NVIDIA-SMI has failed"* ]]
  [[ $output == *"fix: the driver is not loaded"* ]]
}

@test "a driver too old for CUDA 13" {
  STUB_DRIVER=550.127.05 STUB_CUDA=12.4 run check
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL  driver 550.127.05 is too old: the CUDA 13.0 plugin needs >= 580"* ]]
  [[ $output == *"fix: upgrade the driver"* ]]
  MIN_DRIVER=500 STUB_DRIVER=550.127.05 STUB_CUDA=12.4 run check
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL  driver 550.127.05 supports CUDA 12.4, the plugin needs 13.0"* ]]
}

@test "no NVIDIA Container Toolkit" {
  remove_tool nvidia-ctk
  run check
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL  the NVIDIA Container Toolkit is not installed"* ]]
  [[ $output == *"sudo apt-get install -y nvidia-container-toolkit"* ]]
  [ "$(grep -c '^FAIL' <<<"$output")" -eq 1 ]
}

@test "docker without the nvidia runtime" {
  STUB_DOCKER_NO_NVIDIA=1 run check
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL  docker has no nvidia runtime"* ]]
  [[ $output == *"fix: sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker"* ]]
}

@test "a CUDA container that does not see the GPU" {
  STUB_DOCKER_FAIL=run CUDA_TEST_IMAGE=local/cuda:13 run check
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL  a CUDA container does not see the GPU: docker run --rm --gpus all local/cuda:13 nvidia-smi -L said: docker: simulated failure"* ]]
}

@test "docker that does not run, or is missing: the container checks are skipped" {
  STUB_DOCKER_FAIL=info run check
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL  docker info failed"* ]]
  [[ $output == *"sudo usermod -aG docker"* ]]
  [[ $output == *"skip  CUDA container"* ]]
  remove_tool docker
  run check
  [[ $output == *"FAIL  docker is not installed"* ]]
}
