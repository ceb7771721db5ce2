# The asr-app image: the asr binary (built with cgo, so it can load PJRT
# plugins) and, by default, a pinned CUDA PJRT plugin with the CUDA libraries
# it needs, installed at build time (`docker build` needs internet, no GPU).
#
#   docker build -t asr-app .                       # what run.sh does on the GPU server
#   docker build --build-arg WITH_CUDA=0 -t asr-app .   # CPU only: no plugin, GOMLX_BACKEND=go
#
# Build arguments:
#   BUILD_IMAGE      Go 1.26 with gcc (cgo)           default golang:1.26-bookworm
#   RUNTIME_IMAGE    Debian-like base with glibc >= 2.34 default debian:bookworm-slim
#   CUDA_IMAGE       Python 3 with pip, for the plugin default python:3.12-slim-bookworm
#   WITH_CUDA        1: install the CUDA plugin; 0: skip that stage (tests, CPU hosts)
#   JAX_CUDA_VERSION the jax-cuda13-pjrt / jax-cuda13-plugin version (pinned)
#   ASR_UID, ASR_GID the non-root user's ids (run.sh passes the server user's, so
#                    ./checkpoints on the server stays writable by both)
#   VERSION          what `asr --version` prints (run.sh passes `git describe`)
#   GOPROXY          the Go module proxy used by the build stage
# See docs/deploy.md for the layout and README.md "Deploy to a GPU server".

ARG BUILD_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim
ARG CUDA_IMAGE=python:3.12-slim-bookworm
ARG WITH_CUDA=1

# ---- build: asr with cgo ---------------------------------------------------
FROM ${BUILD_IMAGE} AS build
ARG GOPROXY=https://proxy.golang.org,direct
ENV CGO_ENABLED=1 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local GOPROXY=${GOPROXY} \
    GOMODCACHE=/go/pkg/mod GOCACHE=/root/.cache/go-build GOMLX_NO_AUTO_INSTALL=1
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# go-xla loads PJRT plugins through cgo: a CGO_ENABLED=0 binary has no XLA.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/asr ./cmd/asr
RUN if ! go version -m /out/asr | grep -q 'CGO_ENABLED=1'; then \
      echo "asr was built without cgo: it could not load the CUDA plugin (install gcc in BUILD_IMAGE)" >&2; exit 1; \
    fi; /out/asr --version

# ---- cuda: the CUDA PJRT plugin and the CUDA libraries, from pip -----------
# Laid out as a Python site-packages directory (no Python at run time):
# asr finds jax_plugins/xla_cuda13/xla_cuda_plugin.so there by name
# (xla:cuda, auto) and the CUDA toolkit beside it (nvidia/cu13).
FROM ${CUDA_IMAGE} AS cuda-1
ARG JAX_CUDA_VERSION=0.11.2
ARG CUDA_SITE=/usr/local/lib/python3.12/dist-packages
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
RUN pip install --no-compile --target "$CUDA_SITE" \
      "jax-cuda13-pjrt==${JAX_CUDA_VERSION}" "jax-cuda13-plugin[with-cuda]==${JAX_CUDA_VERSION}" \
 && find "$CUDA_SITE" \( -name '*.a' -o -name '__pycache__' \) -prune -exec rm -rf {} + \
 && pip list --path "$CUDA_SITE" 2>/dev/null | grep -Ei '^(jax|nvidia)' | tee "$CUDA_SITE/asrkit-cuda-packages.txt"
# Must equal the runtime's LD_LIBRARY_PATH below (internal/deploy checks it):
# the check fails the build when a library the plugin needs is not on it.
ENV LD_LIBRARY_PATH=${CUDA_SITE}/nvidia/cu13/lib:${CUDA_SITE}/nvidia/cudnn/lib:${CUDA_SITE}/nvidia/nccl/lib:${CUDA_SITE}/nvidia/nvshmem/lib
COPY scripts/docker/check_cuda_tree.sh /usr/local/bin/check_cuda_tree.sh
RUN sh /usr/local/bin/check_cuda_tree.sh "$CUDA_SITE"

# An empty stand-in, so WITH_CUDA=0 builds nothing from CUDA_IMAGE.
FROM ${RUNTIME_IMAGE} AS cuda-0
RUN mkdir -p /usr/local/lib/python3.12/dist-packages

FROM cuda-${WITH_CUDA} AS cuda

# ---- runtime ---------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS base
ARG ASR_UID=1000
ARG ASR_GID=1000
RUN set -e; \
    if [ "$ASR_UID" = 0 ]; then echo "ASR_UID=0 (a root login): the service runs as uid 1000 instead" >&2; ASR_UID=1000 ASR_GID=1000; fi; \
    getent group "$ASR_GID" >/dev/null || groupadd --gid "$ASR_GID" asr; \
    useradd --uid "$ASR_UID" --gid "$ASR_GID" --home-dir /app --no-create-home --shell /usr/sbin/nologin asr; \
    mkdir -p /app/data /app/checkpoints; \
    chown "$ASR_UID:$ASR_GID" /app /app/data /app/checkpoints
# The default training config (LJSpeech in /app/data/LJSpeech-1.1, runs in
# /app/checkpoints): asr train --config /app/examples/configs/ljspeech-gpu.yaml
COPY examples/configs /app/examples/configs
ENV GOMLX_NO_AUTO_INSTALL=1 HOME=/app
WORKDIR /app

FROM base AS runtime-cuda-1
ARG CUDA_SITE=/usr/local/lib/python3.12/dist-packages
COPY --from=cuda /usr/local/lib/python3.12/dist-packages /usr/local/lib/python3.12/dist-packages
# A Go process has only the plugin's RUNPATH and LD_LIBRARY_PATH to find the
# CUDA libraries (JAX preloads them from Python); XLA needs libdevice and
# ptxas from the CUDA data dir. The NVIDIA Container Toolkit mounts the driver
# (libcuda.so.1) and the devices when the container reserves a GPU.
ENV GOMLX_BACKEND=xla:${CUDA_SITE}/jax_plugins/xla_cuda13/xla_cuda_plugin.so \
    LD_LIBRARY_PATH=${CUDA_SITE}/nvidia/cu13/lib:${CUDA_SITE}/nvidia/cudnn/lib:${CUDA_SITE}/nvidia/nccl/lib:${CUDA_SITE}/nvidia/nvshmem/lib \
    XLA_FLAGS=--xla_gpu_cuda_data_dir=${CUDA_SITE}/nvidia/cu13 \
    GOPJRT_CUDA_CHECKS=0 \
    NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility

FROM base AS runtime-cuda-0
ENV GOMLX_BACKEND=go

FROM runtime-cuda-${WITH_CUDA}
COPY --from=build /out/asr /usr/local/bin/asr
USER asr
EXPOSE 8000 8501
ENTRYPOINT ["asr"]
CMD ["serve", "--listen", ":8000", "--data-root", "/app/data", "--checkpoint-root", "/app/checkpoints"]
