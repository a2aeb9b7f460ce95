package cuda

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"unsafe"
)

// EnvNVRTC names the environment variable that gives the NVRTC library's
// path, for installations outside the loader's search path (a pip wheel's
// nvidia/cuda_nvrtc/lib, say).
const EnvNVRTC = "MMLLM_NVRTC"

// nvrtcLibraries returns the library names to try, in order: the path in
// EnvNVRTC, then the versioned and unversioned names in the loader's path
// and in /usr/local/cuda/lib64.
func nvrtcLibraries(env string) []string {
	var names []string
	if env != "" {
		names = append(names, env)
	}
	base := []string{"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"}
	names = append(names, base...)
	for _, b := range base {
		names = append(names, filepath.Join("/usr/local/cuda/lib64", b))
	}
	return names
}

// nvrtc holds the addresses of the NVRTC functions the package calls.
type nvrtc struct {
	lib *library

	version, createProgram, compileProgram, getPTXSize, getPTX, getProgramLogSize,
	getProgramLog, destroyProgram uintptr
	// Optional: the architectures it can target (NVRTC 11.2 and later) and
	// cubin output (11.1 and later).
	getNumSupportedArchs, getSupportedArchs, getCUBINSize, getCUBIN uintptr
}

func loadNVRTC() (*nvrtc, error) {
	lib, err := openLibrary(nvrtcLibraries(os.Getenv(EnvNVRTC)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v (set %s to its path)", ErrNoCompiler, err, EnvNVRTC)
	}
	preloadBuiltins(lib.name)
	nv := &nvrtc{lib: lib}
	err = resolve(lib.symbol, symbolTable{
		{"nvrtcVersion", &nv.version},
		{"nvrtcCreateProgram", &nv.createProgram},
		{"nvrtcCompileProgram", &nv.compileProgram},
		{"nvrtcGetPTXSize", &nv.getPTXSize},
		{"nvrtcGetPTX", &nv.getPTX},
		{"nvrtcGetProgramLogSize", &nv.getProgramLogSize},
		{"nvrtcGetProgramLog", &nv.getProgramLog},
		{"nvrtcDestroyProgram", &nv.destroyProgram},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoCompiler, lib.name, err)
	}
	// Older NVRTCs lack these; chooseArch then trusts the device's own
	// architecture, and only PTX is produced.
	_ = resolve(lib.symbol, symbolTable{{"nvrtcGetNumSupportedArchs", &nv.getNumSupportedArchs}})
	_ = resolve(lib.symbol, symbolTable{{"nvrtcGetSupportedArchs", &nv.getSupportedArchs}})
	_ = resolve(lib.symbol, symbolTable{{"nvrtcGetCUBINSize", &nv.getCUBINSize}})
	_ = resolve(lib.symbol, symbolTable{{"nvrtcGetCUBIN", &nv.getCUBIN}})
	return nv, nil
}

// preloadBuiltins loads the libnvrtc-builtins library found beside an
// NVRTC loaded by path, so that NVRTC's own lookup of it by name succeeds
// without LD_LIBRARY_PATH (pip wheels ship the two side by side). Failing
// is harmless: compilation then reports the missing library.
func preloadBuiltins(nvrtcPath string) {
	if !strings.Contains(nvrtcPath, "/") {
		return
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(nvrtcPath), "libnvrtc-builtins.so*"))
	for _, m := range matches {
		if _, err := openLibrary([]string{m}); err == nil {
			return
		}
	}
}

// nvrtcResults names the nvrtcResult codes (nvrtc.h).
var nvrtcResults = []string{
	"NVRTC_SUCCESS", "NVRTC_ERROR_OUT_OF_MEMORY", "NVRTC_ERROR_PROGRAM_CREATION_FAILURE",
	"NVRTC_ERROR_INVALID_INPUT", "NVRTC_ERROR_INVALID_PROGRAM", "NVRTC_ERROR_INVALID_OPTION",
	"NVRTC_ERROR_COMPILATION", "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE",
	"NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION", "NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION",
	"NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID", "NVRTC_ERROR_INTERNAL_ERROR",
}

// checkNVRTC turns an NVRTC status into an error naming the call.
func checkNVRTC(op string, r uintptr) error {
	code := int32(uint32(r))
	if code == 0 {
		return nil
	}
	var name string
	if code > 0 && int(code) < len(nvrtcResults) {
		name = nvrtcResults[code]
	}
	return &NVRTCError{Op: op, Code: code, Msg: name}
}

// versionString returns "major.minor".
func (nv *nvrtc) versionString() string {
	var major, minor int32
	if checkNVRTC("nvrtcVersion", ccall(nv.version, uintptr(unsafe.Pointer(&major)), uintptr(unsafe.Pointer(&minor)))) != nil {
		return "unknown"
	}
	return fmt.Sprintf("%d.%d", major, minor)
}

// supportedArchs returns the SM versions (e.g. 90) NVRTC can compile for,
// or nil when it cannot say.
func (nv *nvrtc) supportedArchs() []int {
	if nv.getNumSupportedArchs == 0 || nv.getSupportedArchs == 0 {
		return nil
	}
	var n int32
	if checkNVRTC("nvrtcGetNumSupportedArchs", ccall(nv.getNumSupportedArchs, uintptr(unsafe.Pointer(&n)))) != nil || n <= 0 || n > 1024 {
		return nil
	}
	archs := make([]int32, n)
	if checkNVRTC("nvrtcGetSupportedArchs", ccall(nv.getSupportedArchs, uintptr(unsafe.Pointer(&archs[0])))) != nil {
		return nil
	}
	out := make([]int, n)
	for i, a := range archs {
		out[i] = int(a)
	}
	return out
}

// canCUBIN reports whether this NVRTC can produce cubins.
func (nv *nvrtc) canCUBIN() bool { return nv.getCUBINSize != 0 && nv.getCUBIN != 0 }

// compile compiles CUDA source to PTX (NUL-terminated, as cuModuleLoadData
// wants it) or, with cubin set and options naming a real architecture
// (sm_XY), to a cubin.
func (nv *nvrtc) compile(src, name string, options []string, cubin bool) ([]byte, error) {
	getSize, get, what := nv.getPTXSize, nv.getPTX, "PTX"
	if cubin {
		if !nv.canCUBIN() {
			return nil, fmt.Errorf("cuda: nvrtc: this NVRTC cannot produce cubins")
		}
		getSize, get, what = nv.getCUBINSize, nv.getCUBIN, "CUBIN"
	}
	csrc, cname := cBytes(src), cBytes(name)
	var prog uintptr
	if err := checkNVRTC("nvrtcCreateProgram", ccall(nv.createProgram, uintptr(unsafe.Pointer(&prog)),
		uintptr(unsafe.Pointer(&csrc[0])), uintptr(unsafe.Pointer(&cname[0])), 0, 0, 0)); err != nil {
		return nil, err
	}
	defer ccall(nv.destroyProgram, uintptr(unsafe.Pointer(&prog)))

	// The option strings are separate heap objects; the array holds their
	// addresses as integers (so it holds no Go pointers) and the strings
	// are kept alive until the call returns.
	copts := make([][]byte, len(options))
	addrs := make([]uintptr, len(options)+1)
	for i, o := range options {
		copts[i] = cBytes(o)
		addrs[i] = uintptr(unsafe.Pointer(&copts[i][0]))
	}
	r := ccall(nv.compileProgram, prog, uintptr(len(options)), uintptr(unsafe.Pointer(&addrs[0])))
	runtime.KeepAlive(copts)
	if err := checkNVRTC("nvrtcCompileProgram("+name+")", r); err != nil {
		if e, ok := err.(*NVRTCError); ok {
			e.Log = nv.log(prog)
		}
		return nil, err
	}
	var size uintptr
	if err := checkNVRTC("nvrtcGet"+what+"Size", ccall(getSize, prog, uintptr(unsafe.Pointer(&size)))); err != nil {
		return nil, err
	}
	if size == 0 || size > 1<<30 {
		return nil, fmt.Errorf("cuda: nvrtc: %s of %s has implausible size %d", what, name, size)
	}
	out := make([]byte, size+1) // one spare NUL in case the size omits it
	if err := checkNVRTC("nvrtcGet"+what, ccall(get, prog, uintptr(unsafe.Pointer(&out[0])))); err != nil {
		return nil, err
	}
	return out, nil
}

// log returns a program's compilation log, trimmed.
func (nv *nvrtc) log(prog uintptr) string {
	var size uintptr
	if checkNVRTC("nvrtcGetProgramLogSize", ccall(nv.getProgramLogSize, prog, uintptr(unsafe.Pointer(&size)))) != nil || size <= 1 || size > 1<<24 {
		return ""
	}
	buf := make([]byte, size)
	if checkNVRTC("nvrtcGetProgramLog", ccall(nv.getProgramLog, prog, uintptr(unsafe.Pointer(&buf[0])))) != nil {
		return ""
	}
	return strings.TrimSpace(cString(&buf[0], len(buf)))
}

// chooseArch returns the virtual architecture to compile for: the device's
// own (major*10+minor) when NVRTC supports it, else the newest supported
// one below it (PTX runs on later GPUs). supported nil means unknown. The
// kernels need dp4a, so compute capability 6.1.
func chooseArch(major, minor int, supported []int) (int, error) {
	want := 10*major + minor
	if want < 61 {
		return 0, fmt.Errorf("cuda: compute capability %d.%d is below 6.1, which the dp4a kernels need", major, minor)
	}
	if supported == nil {
		return want, nil
	}
	best := 0
	for _, a := range supported {
		if a <= want && a > best {
			best = a
		}
	}
	if best < 61 {
		return 0, fmt.Errorf("cuda: NVRTC supports architectures %v, none of them in 6.1..%d.%d", slices.Sorted(slices.Values(supported)), major, minor)
	}
	return best, nil
}
