package cuda

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/nn"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

func TestErrorsMapToFallbackReasons(t *testing.T) {
	cases := []struct {
		code     Result
		noDevice bool
		noDriver bool
	}{
		{resultNoDevice, true, false},
		{resultInvalidDevice, true, false},
		{resultDeviceUnavailable, true, false},
		{resultStubLibrary, false, true},
		{resultInsufficientDriver, false, true},
		{resultSystemDriverMismatch, false, true},
		{2, false, false}, // out of memory
		{resultUnsupportedPTXVersion, false, false},
	}
	for _, c := range cases {
		err := fmt.Errorf("opening: %w", &Error{Op: "cuInit", Code: c.code, Name: "CUDA_ERROR_X", Msg: "what happened"})
		require.Equal(t, c.noDevice, errors.Is(err, ErrNoDevice), "code %d", c.code)
		require.Equal(t, c.noDriver, errors.Is(err, ErrNoDriver), "code %d", c.code)
		require.ErrorContains(t, err, fmt.Sprintf("cuda: cuInit failed: error %d CUDA_ERROR_X: what happened", c.code))
	}
	require.ErrorContains(t, &Error{Op: "cuModuleLoadData", Code: resultUnsupportedPTXVersion}, "NVRTC library is newer than the driver")

	err := checkNVRTC("nvrtcCompileProgram(x.cu)", 6)
	require.ErrorContains(t, err, "nvrtcCompileProgram(x.cu) failed: error 6 NVRTC_ERROR_COMPILATION")
	require.NoError(t, checkNVRTC("nvrtcVersion", 0))
	require.NoError(t, checkNVRTC("nvrtcVersion", 1<<32), "only the low 32 bits of an int result count")
	require.ErrorContains(t, checkNVRTC("x", 99), "error 99")
	e := &NVRTCError{Op: "compile", Code: 6, Log: "kernels.cu(3): error: identifier \"x\" is undefined"}
	require.Contains(t, e.Error(), "\nkernels.cu(3): error")
}

func TestResolveReportsEveryMissingSymbol(t *testing.T) {
	var dr driver
	lookup := func(name string) (uintptr, error) {
		if name == "cuMemAlloc_v2" || name == "cuLaunchKernel" {
			return 0, errors.New("undefined symbol")
		}
		return uintptr(len(name)), nil
	}
	err := resolve(lookup, dr.symbols())
	require.ErrorContains(t, err, "missing functions cuMemAlloc_v2, cuLaunchKernel")
	require.Equal(t, uintptr(len("cuInit")), dr.cuInit)

	// With every symbol present, every function address of the driver is
	// filled in: the table misses none of them.
	dr = driver{}
	next := uintptr(0x1000)
	names := map[string]bool{}
	require.NoError(t, resolve(func(name string) (uintptr, error) {
		require.False(t, names[name], "symbol %s listed twice", name)
		names[name] = true
		next += 16
		return next, nil
	}, dr.symbols()))
	dr.resolveGraphs(func(name string) (uintptr, error) {
		require.False(t, names[name], "symbol %s listed twice", name)
		names[name] = true
		next += 16
		return next, nil
	})
	require.True(t, dr.hasGraphs())
	v := reflect.ValueOf(dr)
	for i := range v.NumField() {
		if f := v.Type().Field(i); f.Type.Kind() == reflect.Uintptr {
			require.NotZero(t, v.Field(i).Uint(), "driver.%s has no symbol", f.Name)
		}
	}
	for name := range names {
		require.True(t, strings.HasPrefix(name, "cu"), name)
	}
}

func TestChooseArch(t *testing.T) {
	nvrtc124 := []int{50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90}
	cases := []struct {
		major, minor int
		supported    []int
		want         int
		err          string
	}{
		{9, 0, nvrtc124, 90, ""},
		{8, 6, nvrtc124, 86, ""},
		{7, 5, nil, 75, ""},       // NVRTC that cannot list its architectures
		{12, 0, nvrtc124, 90, ""}, // a GPU newer than the compiler runs compute_90 PTX
		{6, 1, []int{75, 80}, 0, "none of them in 6.1..6.1"},
		{6, 0, nvrtc124, 0, "below 6.1"},
		{5, 2, nil, 0, "below 6.1"},
	}
	for _, c := range cases {
		got, err := chooseArch(c.major, c.minor, c.supported)
		if c.err != "" {
			require.ErrorContains(t, err, c.err, "%d.%d", c.major, c.minor)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, c.want, got, "%d.%d", c.major, c.minor)
	}
}

func TestPeakBandwidth(t *testing.T) {
	cases := []struct {
		name           string
		clockKHz, bits int
		want           float64
	}{
		{"NVIDIA H100 80GB HBM3", 2619000, 5120, 3.352e12}, // attributes an H100 SXM reports
		{"Tesla T4", 5001000, 256, 320e9},
		{"NVIDIA A100-SXM4-40GB", 1215000, 5120, 1.555e12},
		{"NVIDIA H200", 0, 0, 4.8e12}, // no clock reported: the known figure
		{"NVIDIA H100 80GB HBM3", 0, 5120, 3.35e12},
		{"Some GPU", 0, 0, 0},
	}
	for _, c := range cases {
		require.InEpsilon(t, c.want+1, peakBandwidth(c.name, c.clockKHz, c.bits)+1, 1e-3, c.name)
	}
	d := &Device{Name: "x", MemClockKHz: 1000000, BusWidthBits: 64}
	require.Equal(t, 16e9, d.PeakBandwidth())
}

func TestNVRTCLibraryNames(t *testing.T) {
	names := nvrtcLibraries("/opt/nvrtc/libnvrtc.so.12")
	require.Equal(t, "/opt/nvrtc/libnvrtc.so.12", names[0], "the environment's path first")
	require.Contains(t, names, "libnvrtc.so.12")
	require.Contains(t, names, "/usr/local/cuda/lib64/libnvrtc.so")
	require.NotContains(t, nvrtcLibraries(""), "")
}

func TestCString(t *testing.T) {
	b := []byte("sm_90\x00rest")
	require.Equal(t, "sm_90", cString(&b[0], len(b)))
	require.Equal(t, "sm", cString(&b[0], 2), "at most limit bytes")
	require.Equal(t, "", cString(nil, 10))
	require.Equal(t, []byte("ab\x00"), cBytes("ab"))
}

func TestCheckUploadable(t *testing.T) {
	m, err := kernels.NewMatrix("blk.0.attn_q", quant.Int2, 2, 64, make([]byte, 40))
	require.NoError(t, err)
	require.NoError(t, checkUploadable(m))
	f32, err := kernels.NewMatrix("output_norm", quant.F32, 1, 8, make([]byte, 32))
	require.NoError(t, err)
	require.ErrorContains(t, checkUploadable(f32), "tensor output_norm: f32 weights have no GPU kernels")
	require.ErrorContains(t, checkUploadable(nil), "nil matrix")
	bad := *m
	bad.Data = bad.Data[:39]
	require.ErrorContains(t, checkUploadable(&bad), "tensor blk.0.attn_q: 2×64 int2 with 20-byte rows needs 40 bytes, has 39")
	bad = *m
	bad.RowBytes = 24
	require.ErrorContains(t, checkUploadable(&bad), "blk.0.attn_q")
}

func TestBufferChecks(t *testing.T) {
	d, other := &Device{}, &Device{}
	b := &Buffer{dev: d, ptr: 0x10000, size: 16}
	require.NoError(t, d.floats("x", b, 4))
	require.ErrorContains(t, d.floats("rmsnorm input", b, 5), "rmsnorm input: 5 floats need 20 bytes, the buffer has 16")
	require.ErrorContains(t, other.floats("x", b, 1), "another device")
	require.ErrorContains(t, d.floats("x", nil, 1), "freed or nil")
	require.ErrorContains(t, d.floats("x", &Buffer{dev: d, size: 16}, 1), "freed or nil")
	require.ErrorContains(t, d.floats("x", b, 0), "0 values")
	require.ErrorContains(t, b.Write(make([]byte, 17)), "write of 17 bytes into a buffer of 16")
	require.ErrorContains(t, (&Buffer{}).Read(make([]byte, 1)), "freed")
	require.NoError(t, (&Buffer{}).Free(), "freeing a freed buffer does nothing")
}

func TestClosedDeviceRefusesWork(t *testing.T) {
	d := &Device{closed: true}
	require.ErrorIs(t, d.Synchronize(), ErrClosed)
	require.ErrorIs(t, d.Prepare(), ErrClosed)
	_, err := d.Alloc(64)
	require.ErrorIs(t, err, ErrClosed)
	require.NoError(t, d.Close(), "closing twice is harmless")
	require.Empty(t, d.KernelInfo())
}

func TestAttentionShapeChecks(t *testing.T) {
	ok := AttentionShape{Heads: 9, KVHeads: 3, HeadDim: 64, KVStride: 192, Positions: 10, Scale: 0.125}
	require.NoError(t, ok.check())
	cases := []struct {
		edit func(*AttentionShape)
		want string
	}{
		{func(s *AttentionShape) { s.Heads = 8 }, "8 heads is not a multiple of 3"},
		{func(s *AttentionShape) { s.KVStride = 191 }, "stride 191 is below 3 heads of 64"},
		{func(s *AttentionShape) { s.Positions = 0 }, "non-positive"},
		{func(s *AttentionShape) { s.KVHeads = 0 }, "non-positive"},
	}
	for _, c := range cases {
		s := ok
		c.edit(&s)
		require.ErrorContains(t, s.check(), c.want)
	}
}

// TestRopeTableMatchesNN applies the rope kernel's arithmetic in Go with
// the uploaded frequency table and compares with nn.Rope.
func TestRopeTableMatchesNN(t *testing.T) {
	for _, neox := range []bool{false, true} {
		const heads, headDim, dims, pos = 3, 64, 48, 1234
		ref, err := nn.NewRope(headDim, dims, 10000, neox)
		require.NoError(t, err)
		table := ropeFreqBytes(dims, 10000)
		require.Len(t, table, 8*dims/2)
		x := make([]float32, heads*headDim)
		for i := range x {
			x[i] = float32(i%17) - 8
		}
		want := append([]float32(nil), x...)
		ref.Apply(want, pos)
		for h := range heads {
			head := x[h*headDim : (h+1)*headDim]
			for i := range dims / 2 {
				a, b := 2*i, 2*i+1
				if neox {
					a, b = i, i+dims/2
				}
				sn, cs := math.Sincos(float64(pos) * math.Float64frombits(binary.LittleEndian.Uint64(table[8*i:])))
				x0, x1 := float64(head[a]), float64(head[b])
				head[a], head[b] = float32(x0*cs-x1*sn), float32(x0*sn+x1*cs)
			}
		}
		for i := range x {
			require.InDelta(t, want[i], x[i], 1e-5, "neox %v value %d", neox, i)
		}
	}
}

func TestBufferViews(t *testing.T) {
	d := &Device{}
	b := &Buffer{dev: d, ptr: 0x10000, size: 64}
	v, err := b.View(16, 32)
	require.NoError(t, err)
	require.Equal(t, devicePtr(0x10010), v.ptr)
	require.Equal(t, 32, v.Size())
	require.NoError(t, d.floats("row", v, 8))
	require.ErrorContains(t, d.floats("row", v, 9), "the buffer has 32")
	require.NoError(t, v.Free(), "freeing a view does nothing")
	require.Equal(t, devicePtr(0x10010), v.ptr, "a freed view still points into its buffer")
	for _, c := range []struct{ off, size int }{{-4, 8}, {0, 0}, {2, 8}, {60, 8}, {0, 65}} {
		_, err := b.View(c.off, c.size)
		require.ErrorContains(t, err, fmt.Sprintf("view of %d bytes at offset %d of a buffer of 64", c.size, c.off))
	}
	_, err = (&Buffer{}).View(0, 4)
	require.ErrorContains(t, err, "freed or nil")
}
