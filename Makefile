# mobile-mm-llm: one Makefile for building, testing and benchmarking.
# `make test` is what CI runs (.ci/run): it installs what the tests need on a
# fresh Debian machine, then runs gofmt, go vet, the native tests and the arm64
# tests under qemu-user.

GO      ?= go
# The binaries, the image (Dockerfile) and the tests are all built without
# cgo (the CUDA loader uses purego), so every build shares one build cache.
export CGO_ENABLED ?= 0
PKGS    ?= ./...
BENCH   ?= .
BENCHTIME ?= 1s
COUNT   ?= 1

.PHONY: all build test test-native test-arm64 fmt-check vet deps run bench bench-kernels gpu-check policy e2e clean

all: build

build:
	$(GO) build ./...

## test: everything CI checks (formatting, vet, native tests, arm64 tests under qemu)
test: deps fmt-check vet test-native test-arm64

deps:
	@bash scripts/deps.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files --others --exclude-standard '*.go' 2>/dev/null)); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	GOARCH=arm64 $(GO) vet ./engine/quant/ ./engine/kernels/

test-native:
	$(GO) test -count=1 $(PKGS)

## test-arm64: the arm64 (NEON) kernels and the engine's tests, run under qemu-user emulation
# The second run emulates a core without the dot-product extension, so the
# plain-NEON kernels are tested as the best Impl too. The third runs the other
# engine packages (llama.cpp goldens included: arm64 fuses x*y+z into FMAs
# where amd64 does not, see engine/nn's doc) with -tags nocuda, which leaves
# out engine/cuda's purego loader (it needs an arm64 dynamic loader that qemu
# does not have); it skips the decoder's and quantizer's slowest tests (the
# decoder's agreement across Impls and batch sizes, whose arm64-specific part,
# the NEON kernels against the generic ones, the first runs test; and the
# quantizer's recipe sweeps): over 6 minutes emulated.
ARM64_SLOW ?= TestDecodeBatchMatchesDecodeToken|TestPrefillMatchesTokenByToken|TestInt2RecipeFollowsMeasurement|TestRecipesOnFixture
test-arm64:
	GOARCH=arm64 $(GO) test -count=1 -exec qemu-aarch64-static ./engine/quant/ ./engine/kernels/
	QEMU_CPU=cortex-a53 GOARCH=arm64 $(GO) test -count=1 -exec qemu-aarch64-static ./engine/kernels/
	GOARCH=arm64 $(GO) test -tags nocuda -count=1 -exec qemu-aarch64-static -skip '$(ARM64_SLOW)' \
		./engine/nn/ ./engine/vision/ ./engine/decoder/ ./engine/tokenizer/ ./engine/generate/ \
		./engine/gguf/ ./engine/quantize/ ./engine/runtime/

## run: the main job (the inference server, once it exists)
run:
	$(GO) run ./cmd/mmllm serve

## bench: all benchmarks; narrow with BENCH=regex, e.g. make bench BENCH=GEMV
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -count $(COUNT) $(PKGS)

bench-kernels:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -count $(COUNT) ./engine/kernels/

## policy: every stack in stacks/ against the policy rules (the program under Pulumi's mocks);
## make test runs the same check through policycmd's TestEveryStackPasses
policy:
	$(GO) run ./cmd/mmllm policy check --all

## e2e: the local stack under the real Pulumi engine (render mode) with the policy pack; builds
## the Pulumi CLI and the Kubernetes provider into ~/.cache/mmllm-e2e first (see docs/e2e.md)
e2e:
	@bash scripts/e2e.sh

## gpu-check: CUDA correctness and bandwidth on a GPU machine (exits 2 without one)
gpu-check:
	@bash scripts/gpu-check.sh

clean:
	$(GO) clean -testcache
