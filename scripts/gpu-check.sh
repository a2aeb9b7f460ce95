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
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# test_binary PKG GIVEN: the absolute path of PKG's test binary, GIVEN when
# set, else built here.
test_binary() {
	local pkg=$1 given=$2
	if [[ -z $given ]]; then
		given=$tmp/$pkg.test
		echo "gpu-check: building the engine/$pkg test binary" >&2
		CGO_ENABLED=0 "$GO" test -c -o "$given" "./engine/$pkg/"
	fi
	realpath "$given"
}
bin=$(test_binary cuda "${GPU_CHECK_BIN:-}")
dbin=$(test_binary decoder "${GPU_CHECK_DECODER_BIN:-}")
rbin=$(test_binary runtime "${GPU_CHECK_RUNTIME_BIN:-}")

# The GPU tests skip without a device; with MMLLM_CUDA_REQUIRE=1 they fail
# instead, so nothing here can pass by skipping.
export MMLLM_CUDA_REQUIRE=1

echo "gpu-check: looking for a CUDA device"
if ! "$bin" -test.run '^TestGPUDevice$' -test.v -test.timeout 60s; then
	echo "gpu-check: no GPU: no usable CUDA driver or device here (see above); run this on a GPU machine" >&2
	exit 2
fi

# run_tests DIR BIN PATTERN TIMEOUT WHAT: runs BIN's tests matching
# PATTERN in DIR (where their test data is), quietly; exits 1 saying WHAT
# failed.
run_tests() {
	local dir=$1 bin=$2 pattern=$3 timeout=$4 what=$5 status
	set +e
	(cd "$dir" && "$bin" -test.run "$pattern" -test.v -test.timeout "$timeout") 2>&1 | grep -Ev '^=== (RUN|PAUSE|CONT)'
	status=${PIPESTATUS[0]}
	set -e
	if [[ $status -ne 0 ]]; then
		echo "gpu-check: FAILED: $what (exit $status)" >&2
		exit 1
	fi
}

echo "gpu-check: correctness against the CPU reference (kernels compiled with NVRTC on first use)"
run_tests engine/cuda "$bin" '^Test(GPU|NVRTC)' 180s "CUDA results differ from the CPU reference or a kernel failed"
echo "gpu-check: the decoder on the GPU against the CPU decoder (tiny and SmolLM2-width models)"
run_tests engine/decoder "$dbin" '^TestGPU' 180s "the GPU decoder differs from the CPU decoder"
echo "gpu-check: the runtime serving chat requests with the decoder on the GPU, against the CPU's answers"
run_tests engine/runtime "$rbin" '^TestGPU' 120s "the GPU runtime's answers differ from the CPU's"

echo "gpu-check: bandwidth benchmark (gpu-µs/op and GB/s of weight bytes; peak-frac = fraction of DRAM peak)"
if ! (cd engine/cuda && "$bin" -test.run '^$' -test.bench '^BenchmarkGPU' -test.benchtime "$BENCHTIME" -test.timeout 120s); then
	echo "gpu-check: FAILED: the benchmark did not complete" >&2
	exit 1
fi
echo "gpu-check: the whole decoder on the GPU (SmolLM2-135M shape, 64 greedy tokens, tokens/s)"
if ! (cd engine/decoder && "$dbin" -test.run '^$' -test.bench '^BenchmarkGPU' -test.benchtime 3x -test.timeout 180s); then
	echo "gpu-check: FAILED: the decoder benchmark did not complete" >&2
	exit 1
fi
echo "gpu-check: all CUDA checks passed"
