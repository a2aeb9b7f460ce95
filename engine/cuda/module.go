package cuda

import (
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// module is the compiled kernels loaded on a device.
type module struct {
	handle uintptr
	funcs  map[string]uintptr
	target string // e.g. "compute_90 PTX" or "sm_90 cubin"
	nvrtc  string // NVRTC version that compiled it
	image  []byte // the PTX or cubin, kept for the life of the device
}

// Prepare compiles the kernels for the device with NVRTC and loads them.
// The first launch does it if the caller has not; calling it at start-up
// turns a missing compiler into an error there rather than at the first
// token. Its error wraps ErrNoCompiler when NVRTC is missing.
func (d *Device) Prepare() error { return d.do(d.prepareLocked) }

// KernelInfo describes the loaded kernels, e.g. "compute_90 PTX from NVRTC
// 12.4, 25 kernels"; empty before Prepare.
func (d *Device) KernelInfo() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mod == nil {
		return ""
	}
	return fmt.Sprintf("%s from NVRTC %s, %d kernels", d.mod.target, d.mod.nvrtc, len(d.mod.funcs))
}

func (d *Device) prepareLocked() error {
	if d.mod != nil || d.modErr != nil {
		return d.modErr
	}
	d.mod, d.modErr = d.compile()
	if d.modErr != nil {
		d.modErr = fmt.Errorf("cuda: %s: kernels: %w", d.Name, d.modErr)
	}
	return d.modErr
}

func (d *Device) compile() (*module, error) {
	nv, err := loadNVRTC()
	if err != nil {
		return nil, err
	}
	arch, err := chooseArch(d.Major, d.Minor, nv.supportedArchs())
	if err != nil {
		return nil, err
	}
	image, err := nv.compile(kernelSource, kernelFile, compileOptions(arch, false, d.tune), false)
	if err != nil {
		return nil, err
	}
	target := fmt.Sprintf("compute_%d PTX", arch)
	h, err := d.drv.moduleLoadData(image)
	var de *Error
	if errors.As(err, &de) && de.Code == resultUnsupportedPTXVersion && arch == 10*d.Major+d.Minor && nv.canCUBIN() {
		// The driver is older than NVRTC and cannot JIT its PTX; a cubin
		// for the device itself needs no JIT.
		bin, cerr := nv.compile(kernelSource, kernelFile, compileOptions(arch, true, d.tune), true)
		if cerr != nil {
			return nil, fmt.Errorf("%w; compiling a cubin instead failed: %w", err, cerr)
		}
		image, target = bin, fmt.Sprintf("sm_%d cubin", arch)
		h, err = d.drv.moduleLoadData(image)
	}
	if err != nil {
		return nil, err
	}
	m := &module{handle: h, funcs: make(map[string]uintptr), target: target, nvrtc: nv.versionString(), image: image}
	for name := range kernelIndex {
		f, err := d.drv.moduleGetFunction(h, name)
		if err != nil {
			_ = d.drv.moduleUnload(h)
			return nil, err
		}
		m.funcs[name] = f
	}
	return m, nil
}

// launch is one kernel launch, its arguments checked against the kernel's
// parameters when it is made.
type launch struct {
	kernel string
	geom   launchGeom
	args   *args          // holds the argument values params points to
	params unsafe.Pointer // the kernelParams array
}

func newLaunch(kernel string, g launchGeom, a *args) (launch, error) {
	spec, ok := kernelIndex[kernel]
	if !ok {
		return launch{}, fmt.Errorf("cuda: no kernel %s", kernel)
	}
	p, err := a.pointers(spec)
	if err != nil {
		return launch{}, err
	}
	return launch{kernel: kernel, geom: g, args: a, params: p}, nil
}

// start runs one launch that could be made, without waiting for it.
func (d *Device) start(l launch, err error) error {
	if err != nil {
		return err
	}
	return d.run([]launch{l})
}

// run launches ls in order on the default stream, without waiting.
func (d *Device) run(ls []launch) error { return d.do(func() error { return d.runLocked(ls) }) }

// runLocked launches ls, compiling the kernels first if needed.
func (d *Device) runLocked(ls []launch) error {
	if err := d.prepareLocked(); err != nil {
		return err
	}
	for _, l := range ls {
		if err := d.drv.launchKernel(l.kernel, d.mod.funcs[l.kernel], l.geom, l.params); err != nil {
			return err
		}
	}
	return nil
}

// timeLocked runs launch iters times between two events and returns the
// GPU time they span.
func (d *Device) timeLocked(iters int, launch func() error) (time.Duration, error) {
	start, err := d.drv.eventCreate()
	if err != nil {
		return 0, err
	}
	defer func() { _ = d.drv.eventDestroy(start) }()
	end, err := d.drv.eventCreate()
	if err != nil {
		return 0, err
	}
	defer func() { _ = d.drv.eventDestroy(end) }()
	if err := d.drv.eventRecord(start); err != nil {
		return 0, err
	}
	for range iters {
		if err := launch(); err != nil {
			return 0, err
		}
	}
	if err := d.drv.eventRecord(end); err != nil {
		return 0, err
	}
	if err := d.drv.eventSynchronize(end); err != nil {
		return 0, err
	}
	ms, err := d.drv.eventElapsed(start, end)
	return time.Duration(float64(ms) * float64(time.Millisecond)), err
}
