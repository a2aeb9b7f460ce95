package cuda

import (
	"fmt"
	"log"
	"os"
)

// EnvDevice names the environment variable that picks the compute device
// ("cpu" or "cuda") when the command line does not.
const EnvDevice = "MMLLM_DEVICE"

// Select returns the device to run on for a --device choice: nil for
// "cpu"; for "cuda", the first CUDA device with its kernels compiled, or
// nil and a log line saying why the CPU kernels are used instead when
// there is no driver, device or compiler. An empty choice reads EnvDevice
// and defaults to "cpu". Only an unknown choice is an error. logf nil
// means log.Printf.
func Select(choice string, logf func(format string, args ...any)) (*Device, error) {
	if logf == nil {
		logf = log.Printf
	}
	if choice == "" {
		choice = os.Getenv(EnvDevice)
	}
	switch choice {
	case "", "cpu":
		return nil, nil
	case "cuda":
	default:
		return nil, fmt.Errorf("cuda: unknown device %q (want cpu or cuda)", choice)
	}
	d, err := Open()
	if err != nil {
		logf("cuda: falling back to the CPU kernels: %v", err)
		return nil, nil
	}
	if err := d.Prepare(); err != nil {
		_ = d.Close()
		logf("cuda: falling back to the CPU kernels: %s found but its kernels are unusable: %v", d.Name, err)
		return nil, nil
	}
	logf("cuda: using %s; %s", d, d.KernelInfo())
	return d, nil
}
