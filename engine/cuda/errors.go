package cuda

import (
	"errors"
	"fmt"
	"unsafe"
)

// Errors that mean "use the CPU": Open's error wraps ErrNoDriver when the
// driver library is missing, unusable or too old, and ErrNoDevice when the
// driver sees no usable GPU. ErrNoCompiler means the GPU is there but the
// kernels cannot be compiled (no NVRTC library).
var (
	ErrNoDriver   = errors.New("cuda: no usable CUDA driver")
	ErrNoDevice   = errors.New("cuda: no CUDA device")
	ErrNoCompiler = errors.New("cuda: no NVRTC runtime compiler")
	ErrClosed     = errors.New("cuda: device closed")
)

// Result is a CUDA driver API status code (CUresult).
type Result int32

// The driver status codes the package interprets.
const (
	resultSuccess               Result = 0
	resultStubLibrary           Result = 34
	resultInsufficientDriver    Result = 35
	resultDeviceUnavailable     Result = 46
	resultNoDevice              Result = 100
	resultInvalidDevice         Result = 101
	resultUnsupportedPTXVersion Result = 222
	resultNotSupported          Result = 801
	resultSystemDriverMismatch  Result = 803
	resultCompatNotSupported    Result = 804
)

// Error is a failed driver API call.
type Error struct {
	Op   string // the call and its subject, e.g. "cuMemAlloc(1048576 bytes)"
	Code Result
	Name string // e.g. "CUDA_ERROR_OUT_OF_MEMORY", when the driver could say
	Msg  string // the driver's description, when it could say
}

// Error describes the call, the status and the driver's words for it.
func (e *Error) Error() string {
	s := fmt.Sprintf("cuda: %s failed: error %d", e.Op, e.Code)
	if e.Name != "" {
		s += " " + e.Name
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Code == resultUnsupportedPTXVersion {
		s += " (the NVRTC library is newer than the driver: use an NVRTC no newer than the driver's CUDA version, or upgrade the driver)"
	}
	return s
}

// Unwrap maps the codes that mean "no GPU here" to ErrNoDevice and those
// that mean "no usable driver" to ErrNoDriver, so callers can test with
// errors.Is.
func (e *Error) Unwrap() error {
	switch e.Code {
	case resultNoDevice, resultInvalidDevice, resultDeviceUnavailable:
		return ErrNoDevice
	case resultStubLibrary, resultInsufficientDriver, resultSystemDriverMismatch, resultCompatNotSupported:
		return ErrNoDriver
	}
	return nil
}

// NVRTCError is a failed NVRTC call; Log holds the compiler's output for a
// failed compilation.
type NVRTCError struct {
	Op   string
	Code int32
	Msg  string
	Log  string
}

// Error describes the call and status, followed by the compiler's log.
func (e *NVRTCError) Error() string {
	s := fmt.Sprintf("cuda: nvrtc: %s failed: error %d", e.Op, e.Code)
	if e.Msg != "" {
		s += " " + e.Msg
	}
	if e.Log != "" {
		s += "\n" + e.Log
	}
	return s
}

// cString copies a NUL-terminated C string of at most limit bytes.
func cString(p *byte, limit int) string {
	if p == nil {
		return ""
	}
	var b []byte
	for i := range limit {
		c := *(*byte)(unsafe.Add(unsafe.Pointer(p), i))
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

// cBytes returns s as a NUL-terminated byte string.
func cBytes(s string) []byte { return append([]byte(s), 0) }
