package cuda

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
)

// Device is an opened CUDA GPU: its properties, for reports, and its
// context, modules and allocations. Its methods may be called from any
// goroutine; they are serialized.
type Device struct {
	Name              string // e.g. "NVIDIA H100 80GB HBM3"
	Ordinal           int    // the driver's device number
	Major, Minor      int    // compute capability
	MemoryBytes       uint64 // device memory
	Multiprocessors   int
	L2Bytes           int
	MemClockKHz       int // peak memory clock
	BusWidthBits      int // memory bus width
	MaxSharedPerBlock int // shared memory a block may use without opting in
	DriverVersion     int // CUDA version of the driver, e.g. 12040

	drv *driver
	dev int32
	ctx uintptr

	mu     sync.Mutex
	closed bool
	tune   mmTuning // the matrix kernels' launch shape, fixed before Prepare
	mod    *module  // the compiled kernels, once prepared
	modErr error    // why preparing failed, so it is not retried per launch
}

// Open opens the first CUDA device. Its error wraps ErrNoDriver when the
// driver cannot be loaded or initialized and ErrNoDevice when there is no
// device, so callers can fall back to the CPU kernels.
func Open() (*Device, error) { return OpenOrdinal(0) }

// OpenOrdinal opens the CUDA device with the given driver ordinal.
func OpenOrdinal(ordinal int) (*Device, error) {
	dr, err := loadDriver()
	if err != nil {
		return nil, err
	}
	n, err := dr.deviceCount()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: the driver reports no devices", ErrNoDevice)
	}
	if ordinal < 0 || ordinal >= n {
		return nil, fmt.Errorf("%w: device %d requested, the driver has %d (0..%d)", ErrNoDevice, ordinal, n, n-1)
	}
	dev, err := dr.device(ordinal)
	if err != nil {
		return nil, err
	}
	d := &Device{Ordinal: ordinal, DriverVersion: dr.version, drv: dr, dev: dev, tune: defaultTuning()}
	if d.Name, err = dr.deviceName(dev); err != nil {
		return nil, err
	}
	if d.MemoryBytes, err = dr.totalMem(dev); err != nil {
		return nil, err
	}
	for _, a := range []struct {
		attr int
		dst  *int
	}{
		{attrCapabilityMajor, &d.Major}, {attrCapabilityMinor, &d.Minor},
		{attrMultiprocessors, &d.Multiprocessors}, {attrL2Bytes, &d.L2Bytes},
		{attrMemoryClockKHz, &d.MemClockKHz}, {attrBusWidthBits, &d.BusWidthBits},
		{attrMaxSharedPerBlock, &d.MaxSharedPerBlock},
	} {
		if *a.dst, err = dr.attribute(dev, a.attr); err != nil {
			return nil, fmt.Errorf("cuda: device %d (%s): %w", ordinal, d.Name, err)
		}
	}
	if d.ctx, err = dr.primaryCtxRetain(dev); err != nil {
		return nil, fmt.Errorf("cuda: device %d (%s): %w", ordinal, d.Name, err)
	}
	return d, nil
}

// knownPeaks are the DRAM bandwidths (bytes/s) of cards whose drivers may
// not report the memory clock, matched by a substring of the device name.
var knownPeaks = []struct {
	name string
	peak float64
}{
	{"H200", 4.8e12},
	{"H100", 3.35e12},
}

// peakBandwidth estimates DRAM bandwidth in bytes/s: two transfers per
// memory clock over the bus width, or a known card's figure when the
// driver reports no clock; 0 if neither is known.
func peakBandwidth(name string, memClockKHz, busWidthBits int) float64 {
	if memClockKHz > 0 && busWidthBits > 0 {
		return 2 * float64(memClockKHz) * 1e3 * float64(busWidthBits) / 8
	}
	for _, k := range knownPeaks {
		if strings.Contains(name, k.name) {
			return k.peak
		}
	}
	return 0
}

// PeakBandwidth returns the device's estimated DRAM bandwidth in bytes/s
// (0 if unknown), the bound a memory-bound kernel is compared with.
func (d *Device) PeakBandwidth() float64 {
	return peakBandwidth(d.Name, d.MemClockKHz, d.BusWidthBits)
}

// String describes the device in one line, for logs and /ready.
func (d *Device) String() string {
	return fmt.Sprintf("%s (device %d, compute %d.%d, %.1f GiB, %d SMs, %.2f TB/s peak, driver CUDA %d.%d)",
		d.Name, d.Ordinal, d.Major, d.Minor, float64(d.MemoryBytes)/(1<<30), d.Multiprocessors,
		d.PeakBandwidth()/1e12, d.DriverVersion/1000, d.DriverVersion%1000/10)
}

// do runs fn with the device's context current on a locked OS thread,
// holding the device's lock.
func (d *Device) do(fn func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := d.drv.ctxSetCurrent(d.ctx); err != nil {
		return err
	}
	return fn()
}

// Synchronize waits for every kernel launched on the device and returns
// the first error one of them raised.
func (d *Device) Synchronize() error {
	return d.do(d.drv.ctxSynchronize)
}

// Close unloads the kernels and releases the device's context. Buffers
// and matrices must be freed before; the device cannot be used afterwards.
func (d *Device) Close() error {
	err := d.do(func() error {
		var err error
		if d.mod != nil {
			err = d.drv.moduleUnload(d.mod.handle)
			d.mod = nil
		}
		if rerr := d.drv.primaryCtxRelease(d.dev); err == nil {
			err = rerr
		}
		return err
	})
	if err == ErrClosed {
		return nil
	}
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	return err
}
