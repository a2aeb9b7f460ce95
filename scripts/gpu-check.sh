#!/usr/bin/env bash
# gpu-check: build the engine/cuda, decoder and runtime test binaries, run the
# CUDA correctness tests against the CPU reference (kernels, then the whole
# decoder on the GPU) and print the bandwidth benchmark (GB/s of weight bytes
# and the fraction of the card's DRAM peak) and the GPU decoder's tokens/s. Meant for a machine with an
# NVIDIA GPU, its driver and NVRTC; it takes well under 5 minutes there.
#
#   bash scripts/gpu-check.sh            # or: make gpu-check
#
# Environment:
#   GPU_CHECK_BIN  a test binary built elsewhere, e.g. where the Go toolchain
#                  and modules are (CGO_ENABLED=0 go test -c -o cuda.test ./engine/cuda/);
#                  without it the binary is built here with $GO (default go)
#   GPU_CHECK_DECODER_BIN  the same for ./engine/decoder/ (decoder.test)
#   GPU_CHECK_RUNTIME_BIN  the same for ./engine/runtime/ (runtime.test)
#   MMLLM_NVRTC    path of libnvrtc.so when it is not in the loader's path
#   BENCHTIME      go benchmark time per shape (default 50x)
#
# Exit status: 0 all passed; 1 a test or the build failed; 2 no usable GPU
# (no driver or no device: run it on a GPU machine).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
BENCHTIME=${BENCHTIME:-50x}
bin=${GPU_CHECK_BIN:-}
dbin=${GPU_CHECK_DECODER_BIN:-}
rbin=${GPU_CHECK_RUNTIME_BIN:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [[ -z $bin ]]; then
	bin=$tmp/cuda.test
	echo "gpu-check: building the engine/cuda test binary"
	CGO_ENABLED=0 "$GO" test -c -o "$bin" ./engine/cuda/
fi
if [[ -z $dbin ]]; then
	dbin=$tmp/decoder.test
	echo "gpu-check: building the engine/decoder test binary"
	CGO_ENABLED=0 "$GO" test -c -o "$dbin" ./engine/decoder/
fi
if [[ -z $rbin ]]; then
	rbin=$tmp/runtime.test
	echo "gpu-check: building the engine/runtime test binary"
	CGO_ENABLED=0 "$GO" test -c -o "$rbin" ./engine/runtime/
fi
dbin=$(realpath "$dbin")
rbin=$(realpath "$rbin")

# The GPU tests skip without a device; with MMLLM_CUDA_REQUIRE=1 they fail
# instead, so nothing here can pass by skipping.
export MMLLM_CUDA_REQUIRE=1

echo "gpu-check: looking for a CUDA device"
if ! "$bin" -test.run '^TestGPUDevice$' -test.v -test.timeout 60s; then
	echo "gpu-check: no GPU: no usable CUDA driver or device here (see above); run this on a GPU machine" >&2
	exit 2
fi

echo "gpu-check: correctness against the CPU reference (kernels compiled with NVRTC on first use)"
set +e
"$bin" -test.run '^Test(GPU|NVRTC)' -test.v -test.timeout 180s 2>&1 | grep -Ev '^=== (RUN|PAUSE|CONT)'
status=${PIPESTATUS[0]}
set -e
if [[ $status -ne 0 ]]; then
	echo "gpu-check: FAILED: CUDA results differ from the CPU reference or a kernel failed (exit $status)" >&2
	exit 1
fi

echo "gpu-check: the decoder on the GPU against the CPU decoder (tiny and SmolLM2-width models)"
set +e
(cd engine/decoder && "$dbin" -test.run '^TestGPU' -test.v -test.timeout 180s) 2>&1 | grep -Ev '^=== (RUN|PAUSE|CONT)'
status=${PIPESTATUS[0]}
set -e
if [[ $status -ne 0 ]]; then
	echo "gpu-check: FAILED: the GPU decoder differs from the CPU decoder (exit $status)" >&2
	exit 1
fi

echo "gpu-check: the runtime serving chat requests with the decoder on the GPU, against the CPU's answers"
set +e
(cd engine/runtime && "$rbin" -test.run '^TestGPU' -test.v -test.timeout 120s) 2>&1 | grep -Ev '^=== (RUN|PAUSE|CONT)'
status=${PIPESTATUS[0]}
set -e
if [[ $status -ne 0 ]]; then
	echo "gpu-check: FAILED: the GPU runtime's answers differ from the CPU's (exit $status)" >&2
	exit 1
fi

echo "gpu-check: bandwidth benchmark (gpu-µs/op and GB/s of weight bytes; peak-frac = fraction of DRAM peak)"
if ! "$bin" -test.run '^$' -test.bench '^BenchmarkGPU' -test.benchtime "$BENCHTIME" -test.timeout 120s; then
	echo "gpu-check: FAILED: the benchmark did not complete" >&2
	exit 1
fi
echo "gpu-check: the whole decoder on the GPU (SmolLM2-135M shape, 64 greedy tokens, tokens/s)"
if ! (cd engine/decoder && "$dbin" -test.run '^$' -test.bench '^BenchmarkGPU' -test.benchtime 3x -test.timeout 180s); then
	echo "gpu-check: FAILED: the decoder benchmark did not complete" >&2
	exit 1
fi
echo "gpu-check: all CUDA checks passed"
