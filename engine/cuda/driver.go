package cuda

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"unsafe"
)

// symbolTable lists the functions to resolve from a library and where to
// store their addresses.
type symbolTable []struct {
	name string
	dst  *uintptr
}

// resolve looks up every symbol of the table, reporting all missing ones.
func resolve(lookup func(string) (uintptr, error), syms symbolTable) error {
	var missing []string
	for _, s := range syms {
		p, err := lookup(s.name)
		if err != nil || p == 0 {
			missing = append(missing, s.name)
			continue
		}
		*s.dst = p
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing functions %s", strings.Join(missing, ", "))
	}
	return nil
}

// driverLibraries are the names the driver library is loaded by.
var driverLibraries = []string{"libcuda.so.1", "libcuda.so"}

// driver holds the addresses of the driver API functions the package calls.
type driver struct {
	lib     *library
	version int // e.g. 12040 for CUDA 12.4

	cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetAttribute,
	cuDeviceGetName, cuDeviceTotalMem, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease,
	cuCtxSetCurrent, cuCtxSynchronize, cuModuleLoadData, cuModuleUnload, cuModuleGetFunction,
	cuMemAlloc, cuMemFree, cuMemcpyHtoD, cuMemcpyDtoH, cuLaunchKernel, cuEventCreate,
	cuEventRecord, cuEventSynchronize, cuEventElapsedTime, cuEventDestroy,
	cuGetErrorName, cuGetErrorString uintptr

	// The graph API (CUDA 11.4 and later), optional: without it Graph.Run
	// launches one kernel at a time. addKernelNode and execSetParams are
	// the _v2 functions where the driver has them, else the first ones;
	// both read kernelNodeParams (the first ones its leading fields).
	cuGraphCreate, cuGraphAddKernelNode, cuGraphInstantiateWithFlags, cuGraphLaunch,
	cuGraphExecKernelNodeSetParams, cuGraphExecDestroy, cuGraphDestroy uintptr
}

func (dr *driver) symbols() symbolTable {
	return symbolTable{
		{"cuInit", &dr.cuInit},
		{"cuDriverGetVersion", &dr.cuDriverGetVersion},
		{"cuDeviceGetCount", &dr.cuDeviceGetCount},
		{"cuDeviceGet", &dr.cuDeviceGet},
		{"cuDeviceGetAttribute", &dr.cuDeviceGetAttribute},
		{"cuDeviceGetName", &dr.cuDeviceGetName},
		{"cuDeviceTotalMem_v2", &dr.cuDeviceTotalMem},
		{"cuDevicePrimaryCtxRetain", &dr.cuDevicePrimaryCtxRetain},
		{"cuDevicePrimaryCtxRelease_v2", &dr.cuDevicePrimaryCtxRelease},
		{"cuCtxSetCurrent", &dr.cuCtxSetCurrent},
		{"cuCtxSynchronize", &dr.cuCtxSynchronize},
		{"cuModuleLoadData", &dr.cuModuleLoadData},
		{"cuModuleUnload", &dr.cuModuleUnload},
		{"cuModuleGetFunction", &dr.cuModuleGetFunction},
		{"cuMemAlloc_v2", &dr.cuMemAlloc},
		{"cuMemFree_v2", &dr.cuMemFree},
		{"cuMemcpyHtoD_v2", &dr.cuMemcpyHtoD},
		{"cuMemcpyDtoH_v2", &dr.cuMemcpyDtoH},
		{"cuLaunchKernel", &dr.cuLaunchKernel},
		{"cuEventCreate", &dr.cuEventCreate},
		{"cuEventRecord", &dr.cuEventRecord},
		{"cuEventSynchronize", &dr.cuEventSynchronize},
		{"cuEventElapsedTime", &dr.cuEventElapsedTime},
		{"cuEventDestroy_v2", &dr.cuEventDestroy},
		{"cuGetErrorName", &dr.cuGetErrorName},
		{"cuGetErrorString", &dr.cuGetErrorString},
	}
}

// loadDriver loads the driver library and initializes the driver API.
func loadDriver() (*driver, error) {
	lib, err := openLibrary(driverLibraries)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDriver, err)
	}
	dr := &driver{lib: lib}
	if err := resolve(lib.symbol, dr.symbols()); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoDriver, lib.name, err)
	}
	if err := dr.check("cuInit", ccall(dr.cuInit, 0)); err != nil {
		return nil, err
	}
	var v int32
	if err := dr.check("cuDriverGetVersion", ccall(dr.cuDriverGetVersion, uintptr(unsafe.Pointer(&v)))); err != nil {
		return nil, err
	}
	dr.version = int(v)
	dr.resolveGraphs(lib.symbol)
	return dr, nil
}

// resolveGraphs looks up the graph API, leaving it unset (hasGraphs false)
// unless every function is found.
func (dr *driver) resolveGraphs(lookup func(string) (uintptr, error)) {
	find := func(names ...string) uintptr {
		for _, n := range names {
			if p, err := lookup(n); err == nil && p != 0 {
				return p
			}
		}
		return 0
	}
	fns := []uintptr{
		find("cuGraphCreate"),
		find("cuGraphAddKernelNode_v2", "cuGraphAddKernelNode"),
		find("cuGraphInstantiateWithFlags"),
		find("cuGraphLaunch"),
		find("cuGraphExecKernelNodeSetParams_v2", "cuGraphExecKernelNodeSetParams"),
		find("cuGraphExecDestroy"),
		find("cuGraphDestroy"),
	}
	if slices.Contains(fns, 0) {
		return
	}
	dr.cuGraphCreate, dr.cuGraphAddKernelNode, dr.cuGraphInstantiateWithFlags, dr.cuGraphLaunch,
		dr.cuGraphExecKernelNodeSetParams, dr.cuGraphExecDestroy, dr.cuGraphDestroy = fns[0], fns[1], fns[2], fns[3], fns[4], fns[5], fns[6]
}

// hasGraphs reports whether the driver has the graph API.
func (dr *driver) hasGraphs() bool { return dr.cuGraphDestroy != 0 }

// check turns a driver status into an error naming the call.
func (dr *driver) check(op string, r uintptr) error {
	code := Result(int32(uint32(r)))
	if code == resultSuccess {
		return nil
	}
	e := &Error{Op: op, Code: code}
	var p *byte
	if dr.cuGetErrorName != 0 && ccall(dr.cuGetErrorName, uintptr(code), uintptr(unsafe.Pointer(&p)))&0xffffffff == 0 {
		e.Name = cString(p, 256)
	}
	p = nil
	if dr.cuGetErrorString != 0 && ccall(dr.cuGetErrorString, uintptr(code), uintptr(unsafe.Pointer(&p)))&0xffffffff == 0 {
		e.Msg = cString(p, 1024)
	}
	return e
}

func (dr *driver) deviceCount() (int, error) {
	var n int32
	err := dr.check("cuDeviceGetCount", ccall(dr.cuDeviceGetCount, uintptr(unsafe.Pointer(&n))))
	return int(n), err
}

func (dr *driver) device(ordinal int) (int32, error) {
	var dev int32
	err := dr.check(fmt.Sprintf("cuDeviceGet(%d)", ordinal), ccall(dr.cuDeviceGet, uintptr(unsafe.Pointer(&dev)), uintptr(ordinal)))
	return dev, err
}

// CUdevice_attribute values the package reads.
const (
	attrMaxThreadsPerBlock = 1
	attrMaxSharedPerBlock  = 8
	attrMultiprocessors    = 16
	attrMemoryClockKHz     = 36
	attrBusWidthBits       = 37
	attrL2Bytes            = 38
	attrCapabilityMajor    = 75
	attrCapabilityMinor    = 76
)

func (dr *driver) attribute(dev int32, attr int) (int, error) {
	var v int32
	err := dr.check(fmt.Sprintf("cuDeviceGetAttribute(%d)", attr),
		ccall(dr.cuDeviceGetAttribute, uintptr(unsafe.Pointer(&v)), uintptr(attr), uintptr(dev)))
	return int(v), err
}

func (dr *driver) deviceName(dev int32) (string, error) {
	var buf [256]byte
	if err := dr.check("cuDeviceGetName", ccall(dr.cuDeviceGetName, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), uintptr(dev))); err != nil {
		return "", err
	}
	return cString(&buf[0], len(buf)), nil
}

func (dr *driver) totalMem(dev int32) (uint64, error) {
	var n uintptr
	err := dr.check("cuDeviceTotalMem", ccall(dr.cuDeviceTotalMem, uintptr(unsafe.Pointer(&n)), uintptr(dev)))
	return uint64(n), err
}

func (dr *driver) primaryCtxRetain(dev int32) (uintptr, error) {
	var ctx uintptr
	err := dr.check("cuDevicePrimaryCtxRetain", ccall(dr.cuDevicePrimaryCtxRetain, uintptr(unsafe.Pointer(&ctx)), uintptr(dev)))
	return ctx, err
}

func (dr *driver) primaryCtxRelease(dev int32) error {
	return dr.check("cuDevicePrimaryCtxRelease", ccall(dr.cuDevicePrimaryCtxRelease, uintptr(dev)))
}

func (dr *driver) ctxSetCurrent(ctx uintptr) error {
	return dr.check("cuCtxSetCurrent", ccall(dr.cuCtxSetCurrent, ctx))
}

func (dr *driver) ctxSynchronize() error {
	return dr.check("cuCtxSynchronize", ccall(dr.cuCtxSynchronize))
}

// moduleLoadData loads a NUL-terminated PTX image (JIT-compiled by the driver).
func (dr *driver) moduleLoadData(image []byte) (uintptr, error) {
	var mod uintptr
	err := dr.check("cuModuleLoadData", ccall(dr.cuModuleLoadData, uintptr(unsafe.Pointer(&mod)), uintptr(unsafe.Pointer(&image[0]))))
	runtime.KeepAlive(image)
	return mod, err
}

func (dr *driver) moduleUnload(mod uintptr) error {
	return dr.check("cuModuleUnload", ccall(dr.cuModuleUnload, mod))
}

func (dr *driver) moduleGetFunction(mod uintptr, name string) (uintptr, error) {
	var f uintptr
	cname := cBytes(name)
	err := dr.check(fmt.Sprintf("cuModuleGetFunction(%s)", name),
		ccall(dr.cuModuleGetFunction, uintptr(unsafe.Pointer(&f)), mod, uintptr(unsafe.Pointer(&cname[0]))))
	return f, err
}

func (dr *driver) memAlloc(size int) (devicePtr, error) {
	var p uint64
	err := dr.check(fmt.Sprintf("cuMemAlloc(%d bytes)", size), ccall(dr.cuMemAlloc, uintptr(unsafe.Pointer(&p)), uintptr(size)))
	return devicePtr(p), err
}

func (dr *driver) memFree(p devicePtr) error {
	return dr.check("cuMemFree", ccall(dr.cuMemFree, uintptr(p)))
}

// memcpyHtoD copies n bytes from host memory at src to the device.
func (dr *driver) memcpyHtoD(dst devicePtr, src unsafe.Pointer, n int) error {
	err := dr.check(fmt.Sprintf("cuMemcpyHtoD(%d bytes)", n), ccall(dr.cuMemcpyHtoD, uintptr(dst), uintptr(src), uintptr(n)))
	runtime.KeepAlive(src)
	return err
}

// memcpyDtoH copies n bytes from the device to host memory at dst; it
// waits for the kernels launched before it.
func (dr *driver) memcpyDtoH(dst unsafe.Pointer, src devicePtr, n int) error {
	err := dr.check(fmt.Sprintf("cuMemcpyDtoH(%d bytes)", n), ccall(dr.cuMemcpyDtoH, uintptr(dst), uintptr(src), uintptr(n)))
	runtime.KeepAlive(dst)
	return err
}

// launchKernel launches f on the default stream with the kernelParams array
// params (see args).
func (dr *driver) launchKernel(name string, f uintptr, g launchGeom, params unsafe.Pointer) error {
	r := ccall(dr.cuLaunchKernel, f,
		uintptr(g.grid[0]), uintptr(g.grid[1]), uintptr(g.grid[2]),
		uintptr(g.block[0]), uintptr(g.block[1]), uintptr(g.block[2]),
		uintptr(g.shared), 0, uintptr(params), 0)
	runtime.KeepAlive(params)
	return dr.check(fmt.Sprintf("cuLaunchKernel(%s, grid %v, block %v, %d bytes shared)", name, g.grid, g.block, g.shared), r)
}

func (dr *driver) eventCreate() (uintptr, error) {
	var ev uintptr
	err := dr.check("cuEventCreate", ccall(dr.cuEventCreate, uintptr(unsafe.Pointer(&ev)), 0))
	return ev, err
}

func (dr *driver) eventRecord(ev uintptr) error {
	return dr.check("cuEventRecord", ccall(dr.cuEventRecord, ev, 0))
}

func (dr *driver) eventSynchronize(ev uintptr) error {
	return dr.check("cuEventSynchronize", ccall(dr.cuEventSynchronize, ev))
}

// eventElapsed returns the milliseconds between two recorded events.
func (dr *driver) eventElapsed(start, end uintptr) (float32, error) {
	var ms float32
	err := dr.check("cuEventElapsedTime", ccall(dr.cuEventElapsedTime, uintptr(unsafe.Pointer(&ms)), start, end))
	return ms, err
}

func (dr *driver) eventDestroy(ev uintptr) error {
	return dr.check("cuEventDestroy", ccall(dr.cuEventDestroy, ev))
}

// kernelNodeParams is CUDA_KERNEL_NODE_PARAMS_v2 (cuda.h): the first
// version's fields (func through extra) then kern and ctx, zero here (the
// function, in the current context).
type kernelNodeParams struct {
	fn           uintptr
	grid, block  [3]uint32
	shared       uint32
	kernelParams unsafe.Pointer
	extra        uintptr
	kern, ctx    uintptr
}

func nodeParams(f uintptr, l launch) kernelNodeParams {
	return kernelNodeParams{fn: f, grid: l.geom.grid, block: l.geom.block, shared: l.geom.shared, kernelParams: l.params}
}

func (dr *driver) graphCreate() (uintptr, error) {
	var g uintptr
	err := dr.check("cuGraphCreate", ccall(dr.cuGraphCreate, uintptr(unsafe.Pointer(&g)), 0))
	return g, err
}

// graphAddKernelNode adds a kernel node after dep (none when 0); the
// driver copies the arguments' values.
func (dr *driver) graphAddKernelNode(graph, dep, f uintptr, l launch) (uintptr, error) {
	p := nodeParams(f, l)
	var node uintptr
	deps, n := uintptr(0), uintptr(0)
	if dep != 0 {
		deps, n = uintptr(unsafe.Pointer(&dep)), 1
	}
	r := ccall(dr.cuGraphAddKernelNode, uintptr(unsafe.Pointer(&node)), graph, deps, n, uintptr(unsafe.Pointer(&p)))
	runtime.KeepAlive(l.args)
	return node, dr.check("cuGraphAddKernelNode("+l.kernel+")", r)
}

func (dr *driver) graphInstantiate(graph uintptr) (uintptr, error) {
	var exec uintptr
	err := dr.check("cuGraphInstantiateWithFlags", ccall(dr.cuGraphInstantiateWithFlags, uintptr(unsafe.Pointer(&exec)), graph, 0))
	return exec, err
}

// graphExecSetParams gives an instantiated graph's kernel node new
// arguments and geometry.
func (dr *driver) graphExecSetParams(exec, node, f uintptr, l launch) error {
	p := nodeParams(f, l)
	r := ccall(dr.cuGraphExecKernelNodeSetParams, exec, node, uintptr(unsafe.Pointer(&p)))
	runtime.KeepAlive(l.args)
	return dr.check("cuGraphExecKernelNodeSetParams("+l.kernel+")", r)
}

// graphLaunch launches an instantiated graph on the default stream.
func (dr *driver) graphLaunch(exec uintptr) error {
	return dr.check("cuGraphLaunch", ccall(dr.cuGraphLaunch, exec, 0))
}

func (dr *driver) graphExecDestroy(exec uintptr) error {
	return dr.check("cuGraphExecDestroy", ccall(dr.cuGraphExecDestroy, exec))
}

func (dr *driver) graphDestroy(graph uintptr) error {
	return dr.check("cuGraphDestroy", ccall(dr.cuGraphDestroy, graph))
}
