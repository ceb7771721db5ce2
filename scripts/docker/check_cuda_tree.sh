#!/bin/sh
# Run by the Dockerfile's cuda stage: checks that the pip-installed CUDA PJRT
# plugin tree at SITE has everything asr needs at run time, where a Go process
# finds CUDA libraries only through LD_LIBRARY_PATH (set to the same value as
# in the runtime image) and XLA finds libdevice and ptxas through
# --xla_gpu_cuda_data_dir=SITE/nvidia/cu13. Exits 1 with the missing pieces.
#
#   LD_LIBRARY_PATH=... check_cuda_tree.sh SITE
set -eu
site=${1:?usage: check_cuda_tree.sh SITE}
fail=0
miss() { echo "check_cuda_tree: $*" >&2; fail=1; }

plugin=$site/jax_plugins/xla_cuda13/xla_cuda_plugin.so
[ -f "$plugin" ] || miss "no PJRT plugin at $plugin"
ls "$site"/nvidia/cu13/nvvm/libdevice/libdevice*.bc >/dev/null 2>&1 ||
  miss "no libdevice under $site/nvidia/cu13/nvvm/libdevice (XLA needs it to compile kernels)"
[ -x "$site/nvidia/cu13/bin/ptxas" ] || miss "no ptxas at $site/nvidia/cu13/bin/ptxas"

# The libraries JAX preloads before loading the plugin (jax_plugins/cuda).
for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcufft.so.12 libcusolver.so.12 \
  libcusparse.so.12 libnvJitLink.so.13 libnvrtc.so.13 libcupti.so.13 libcudnn.so.9 libnccl.so.2 \
  libnvshmem_host.so.3; do
  found=""
  IFS=:
  for d in ${LD_LIBRARY_PATH:-}; do
    if [ -e "$d/$lib" ]; then found=$d; break; fi
  done
  unset IFS
  if [ -z "$found" ]; then
    miss "$lib is not in any LD_LIBRARY_PATH directory ($LD_LIBRARY_PATH); it is at: $(find "$site" -name "$lib" | tr '\n' ' ')"
  fi
done

# A library folder the runtime's LD_LIBRARY_PATH does not name is a sign the
# pip layout changed: say so (the required libraries above decide).
for d in "$site"/nvidia/*/lib; do
  case ":${LD_LIBRARY_PATH:-}:" in
    *":$d:"*) ;;
    *) echo "check_cuda_tree: note: $d is not on LD_LIBRARY_PATH" >&2 ;;
  esac
done

# Everything the plugin links against must resolve, except the driver
# (libcuda.so.1), which the NVIDIA Container Toolkit mounts at run time.
if [ -f "$plugin" ] && command -v ldd >/dev/null 2>&1; then
  unresolved=$(ldd "$plugin" 2>&1 | grep 'not found' | grep -v 'libcuda\.so\.1' || true)
  [ -z "$unresolved" ] || miss "the plugin's libraries do not resolve: $unresolved"
fi

if [ "$fail" -ne 0 ]; then
  echo "check_cuda_tree: the CUDA tree in $site is incomplete (see above); fix the Dockerfile's cuda stage" >&2
  exit 1
fi
echo "check_cuda_tree: $plugin and its CUDA libraries are in place"
