# syntax=docker/dockerfile:1
#
# The inference server image (ghcr.io/mobile-mm-llm/mmllm:<tag>): one cgo-free
# Go binary on distroless (glibc, CA certificates, tzdata; no shell), run as
# UID/GID 1000, with a read-only root filesystem and a writable /tmp only.
# docs/container.md explains each choice; internal/workflows/dockerfile_test.go
# checks them and builds the binary with this file's exact flags.
#
#   docker buildx build --build-arg VERSION=v0.3.1 --build-arg REVISION=$(git rev-parse HEAD) -t mmllm:dev .
#   docker run --rm --read-only --tmpfs /tmp -p 8080:8080 -p 8000:8000 mmllm:dev

ARG GO_VERSION=1.26

# ---- build: CGO_ENABLED=0 (as make test builds, so internal/workflows's
# build of this exact command shares the test build cache; for the same
# reason no -trimpath: the paths recorded are the builder's /src), cross-
# compiled on the build host's platform. The
# CUDA loader (engine/cuda, purego) makes the binary ask for the system's
# dynamic loader and libc, to dlopen the driver that the NVIDIA container
# toolkit mounts on GPU nodes; nothing else is linked.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/mmllm ./cmd/mmllm

# ---- nvrtc: NVIDIA's runtime compiler, with which the CUDA path compiles its
# kernels when the server starts on a GPU node: the NVIDIA container toolkit
# mounts the driver (libcuda) into the container, not the toolkit's NVRTC.
# Only libnvrtc and its builtins are taken, for the target platform.
FROM nvidia/cuda:12.8.1-runtime-ubuntu24.04 AS nvrtc

# ---- runtime: glibc (for dlopen of libcuda.so.1), CA certificates and tzdata;
# no shell, no package manager, no OpenSSL (Go has its own TLS).
FROM gcr.io/distroless/base-nossl-debian12 AS runtime
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="mmllm" \
      org.opencontainers.image.description="Small INT2 multimodal LLM inference server (SmolVLM family), CPU and NVIDIA GPU" \
      org.opencontainers.image.source="https://github.com/mobile-mm-llm/mobile-mm-llm" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build --chown=0:0 --chmod=0555 /out/mmllm /usr/local/bin/mmllm
# The versioned libraries and their links (the patterns match both); the
# loader finds NVRTC's builtins beside it (engine/cuda/nvrtc.go).
COPY --from=nvrtc --chown=0:0 /usr/local/cuda/lib64/libnvrtc.so.12* /usr/local/cuda/lib64/libnvrtc-builtins.so.12* /usr/local/nvrtc/
ENV MMLLM_NVRTC=/usr/local/nvrtc/libnvrtc.so.12
# The only writable path: mount an emptyDir (Kubernetes) or --tmpfs /tmp
# (docker run --read-only); the anonymous volume covers a plain docker run.
ENV TMPDIR=/tmp HOME=/tmp GIN_MODE=release
VOLUME ["/tmp"]
USER 1000:1000
# 8080: the API, /health and /ready; 8000: Prometheus metrics.
EXPOSE 8080 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/mmllm", "health", "--url", "http://127.0.0.1:8080/health", "--timeout", "4s"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/mmllm"]
# Without --model the server runs the embedded tiny model.
CMD ["serve"]
