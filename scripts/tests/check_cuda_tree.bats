#!/usr/bin/env bats
# scripts/docker/check_cuda_tree.sh (the Dockerfile's cuda stage) on a made-up
# pip tree laid out as jax-cuda13-pjrt and the nvidia wheels install it.

load helpers

setup() {
  S=$BATS_TEST_TMPDIR/site
  mkdir -p "$S/jax_plugins/xla_cuda13" "$S/nvidia/cu13/lib" "$S/nvidia/cu13/bin" "$S/nvidia/cu13/nvvm/libdevice" \
    "$S/nvidia/cudnn/lib" "$S/nvidia/nccl/lib" "$S/nvidia/nvshmem/lib"
  # A real shared object stands in for the plugin, so ldd has something to read.
  cp "$(ldd /bin/sh | awk '/libc.so/ {print $3}')" "$S/jax_plugins/xla_cuda13/xla_cuda_plugin.so"
  touch "$S/nvidia/cu13/nvvm/libdevice/libdevice.10.bc"
  printf '#!/bin/sh\n' >"$S/nvidia/cu13/bin/ptxas"
  chmod +x "$S/nvidia/cu13/bin/ptxas"
  for l in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcufft.so.12 libcusolver.so.12 libcusparse.so.12 \
    libnvJitLink.so.13 libnvrtc.so.13 libcupti.so.13; do touch "$S/nvidia/cu13/lib/$l"; done
  touch "$S/nvidia/cudnn/lib/libcudnn.so.9" "$S/nvidia/nccl/lib/libnccl.so.2" "$S/nvidia/nvshmem/lib/libnvshmem_host.so.3"
  # The runtime image's LD_LIBRARY_PATH, as in the Dockerfile.
  export LD_LIBRARY_PATH=$S/nvidia/cu13/lib:$S/nvidia/cudnn/lib:$S/nvidia/nccl/lib:$S/nvidia/nvshmem/lib
}

@test "a complete tree passes" {
  run sh "$REPO/scripts/docker/check_cuda_tree.sh" "$S"
  [ "$status" -eq 0 ]
  [[ $output == *"and its CUDA libraries are in place"* ]]
}

@test "a library off LD_LIBRARY_PATH, or a missing plugin, libdevice or ptxas, fails the build" {
  mkdir -p "$S/nvidia/cudnn9/lib"
  mv "$S/nvidia/cudnn/lib/libcudnn.so.9" "$S/nvidia/cudnn9/lib/"
  rm "$S/nvidia/cu13/nvvm/libdevice/libdevice.10.bc" "$S/nvidia/cu13/bin/ptxas"
  run sh "$REPO/scripts/docker/check_cuda_tree.sh" "$S"
  [ "$status" -eq 1 ]
  [[ $output == *"libcudnn.so.9 is not in any LD_LIBRARY_PATH directory"*"it is at: $S/nvidia/cudnn9/lib/libcudnn.so.9"* ]]
  [[ $output == *"note: $S/nvidia/cudnn9/lib is not on LD_LIBRARY_PATH"* ]]
  [[ $output == *"no libdevice"* ]]
  [[ $output == *"no ptxas"* ]]
  rm "$S/jax_plugins/xla_cuda13/xla_cuda_plugin.so"
  run sh "$REPO/scripts/docker/check_cuda_tree.sh" "$S"
  [[ $output == *"no PJRT plugin at $S/jax_plugins/xla_cuda13/xla_cuda_plugin.so"* ]]
}
