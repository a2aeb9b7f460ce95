// Package cudatest opens the CUDA device for the tests of the packages
// that run on it (the engine/cuda package's own tests have their own
// helper, as they cannot import this one).
package cudatest

import (
	"os"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/cuda"
)

// EnvRequire names the environment variable that, set to "1", makes a
// missing device fail a test instead of skipping it: scripts/gpu-check.sh
// sets it, so nothing there can pass by skipping.
const EnvRequire = "MMLLM_CUDA_REQUIRE"

// Device opens the first CUDA device with its kernels compiled and closes
// it when the test ends. Without a usable device the test skips, saying
// why (or fails, under EnvRequire=1).
func Device(t testing.TB) *cuda.Device {
	t.Helper()
	d, err := cuda.Open()
	if err == nil {
		if err = d.Prepare(); err != nil {
			_ = d.Close()
		}
	}
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s=1 but there is no usable CUDA device: %v", EnvRequire, err)
		}
		t.Skipf("no usable CUDA device here: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("closing the CUDA device: %v", err)
		}
	})
	return d
}
