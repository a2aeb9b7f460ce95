package cuda

import (
	"fmt"
	"math"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// fakeDevice has no driver (it is marked closed, so nothing reaches one)
// and buffers at made-up device addresses: the launch builders check and
// pack arguments against it without a GPU.
func fakeDevice() *Device {
	return &Device{Name: "fake", MaxSharedPerBlock: 48 << 10, closed: true, tune: defaultTuning()}
}

func fakeBuffer(d *Device, addr devicePtr, size int) *Buffer {
	return &Buffer{dev: d, ptr: addr, size: size}
}

// argValue returns the packed value of a launch's parameter name.
func argValue(t *testing.T, l launch, name string) uint64 {
	t.Helper()
	for i, p := range kernelIndex[l.kernel].params {
		if p.name == name {
			return l.args.vals[i]
		}
	}
	t.Fatalf("kernel %s has no parameter %s", l.kernel, name)
	return 0
}

func argInt(t *testing.T, l launch, name string) int {
	return int(int32(uint32(argValue(t, l, name))))
}

func TestMatMulLaunches(t *testing.T) {
	d := fakeDevice()
	reached := map[string]bool{}
	for _, f := range mmFormats {
		for _, cols := range alignCols {
			for _, vectors := range []int{1, 3, 8, 9, 17} {
				const rows = 5
				rb, err := f.RowBytes(cols)
				require.NoError(t, err)
				m := &Matrix{Name: "w", Format: f, Rows: rows, Cols: cols, RowBytes: rb, buf: fakeBuffer(d, 0x100000, rows*rb)}
				lay, err := newQ8Layout(cols, 20)
				require.NoError(t, err)
				x := &Q8Buffer{N: cols, Vectors: 20, lay: lay, buf: fakeBuffer(d, 0x200000, lay.size)}
				out := fakeBuffer(d, 0x300000, 4*rows*vectors)
				ls, err := d.matMulLaunches(m, x, vectors, out)
				require.NoError(t, err)
				name := fmt.Sprintf("%s %d cols %d vectors", f, cols, vectors)
				first := 0
				for _, l := range ls {
					reached[l.kernel] = true
					require.Equal(t, mmKernelName(f, codeAlign(f, rb), vectors > 1), l.kernel, name)
					count := argInt(t, l, "ntok")
					require.Equal(t, uint64(0x100000), argValue(t, l, "w"), name)
					require.Equal(t, uint64(0x200000+lay.qs+first*cols), argValue(t, l, "xq"), name)
					require.Equal(t, uint64(0x200000+lay.d+4*first*cols/32), argValue(t, l, "xd"), name)
					require.Equal(t, uint64(0x200000+lay.s+4*first*cols/32), argValue(t, l, "xs"), name)
					require.Equal(t, uint64(0x300000+4*first*rows), argValue(t, l, "out"), name)
					require.Equal(t, []int{rows, cols, rb, rows}, []int{argInt(t, l, "rows"), argInt(t, l, "cols"), argInt(t, l, "row_bytes"), argInt(t, l, "ldo")}, name)
					wantGeom, err := mmGeom(rows, d.tune, vectors > 1)
					require.NoError(t, err)
					require.Equal(t, wantGeom, l.geom, name)
					first += count
				}
				require.Equal(t, vectors, first, name)
			}
		}
	}
	require.Len(t, reached, 18, "every matrix kernel is packed for")

	m := &Matrix{Name: "w", Format: quant.Int2, Rows: 5, Cols: 64, RowBytes: 20, buf: fakeBuffer(d, 0x100000, 100)}
	lay, err := newQ8Layout(64, 2)
	require.NoError(t, err)
	x := &Q8Buffer{N: 64, Vectors: 2, lay: lay, buf: fakeBuffer(d, 0x200000, lay.size)}
	out := fakeBuffer(d, 0x300000, 40)
	_, err = d.matMulLaunches(m, x, 3, out)
	require.ErrorContains(t, err, "times 3 of 2 vectors")
	_, err = d.matMulLaunches(m, x, 2, fakeBuffer(d, 0x300000, 39))
	require.ErrorContains(t, err, "tensor w output: 10 floats need 40 bytes")
	_, err = fakeDevice().matMulLaunches(m, x, 1, out)
	require.ErrorContains(t, err, "another device")
	require.ErrorIs(t, d.MatMul(m, x, 1, out), ErrClosed, "a valid product on a closed device reaches no driver")
}

func TestOpLaunches(t *testing.T) {
	d := fakeDevice()
	big := func(addr devicePtr) *Buffer { return fakeBuffer(d, addr, 1<<24) }
	lay, err := newQ8Layout(576, 4)
	require.NoError(t, err)
	q := &Q8Buffer{N: 576, Vectors: 4, lay: lay, buf: fakeBuffer(d, 0x500000, lay.size)}
	rope := &Rope{HeadDim: 64, Dims: 32, Neox: true, freqs: fakeBuffer(d, 0x600000, 8*16)}
	shape := AttentionShape{Heads: 9, KVHeads: 3, HeadDim: 64, KVStride: 192, Positions: 100, Scale: 0.125}
	at := &Position{Capacity: 500, buf: fakeBuffer(d, 0x800000, 4)}

	type built struct {
		l    launch
		err  error
		want map[string]uint64
	}
	f32 := func(v float32) uint64 { return uint64(math.Float32bits(v)) }
	cases := map[string]func() built{
		"quantize_q8": func() built {
			l, err := d.quantizeLaunch(big(0x1000), q, 3)
			return built{l, err, map[string]uint64{"x": 0x1000, "qs": 0x500000, "d": 0x500000 + uint64(lay.d), "s": 0x500000 + uint64(lay.s), "groups": 3 * 18}}
		},
		"rmsnorm": func() built {
			l, err := d.rmsNormLaunch(big(0x1000), big(0x2000), big(0x3000), 3, 576, 1e-5)
			return built{l, err, map[string]uint64{"dst": 0x1000, "x": 0x2000, "w": 0x3000, "n": 576, "eps": f32(1e-5)}}
		},
		"rmsnorm_q8": func() built {
			l, err := d.rmsNormQ8Launch(big(0x1000), big(0x2000), big(0x7000), big(0x3000), 3, 1e-5, q)
			return built{l, err, map[string]uint64{"dst": 0x1000, "x": 0x2000, "res": 0x7000, "w": 0x3000, "n": 576, "eps": f32(1e-5),
				"qs": 0x500000, "d": 0x500000 + uint64(lay.d), "s": 0x500000 + uint64(lay.s)}}
		},
		"swiglu_q8": func() built {
			l, err := d.swigluQ8Launch(big(0x1000), big(0x2000), big(0x3000), 2, q)
			return built{l, err, map[string]uint64{"dst": 0x1000, "gate": 0x2000, "up": 0x3000, "groups": 2 * 18,
				"qs": 0x500000, "d": 0x500000 + uint64(lay.d), "s": 0x500000 + uint64(lay.s)}}
		},
		"rope_at": func() built {
			l, err := d.ropeAtLaunch(rope, big(0x1000), 1, 9, at)
			return built{l, err, map[string]uint64{"x": 0x1000, "freqs": 0x600000, "heads": 9, "head_dim": 64, "dims": 32, "pos": 0x800000, "neox": 1}}
		},
		"attention_at": func() built {
			l, err := d.attentionAtLaunch(big(0x1000), big(0x2000), big(0x3000), big(0x4000), shape, at)
			return built{l, err, map[string]uint64{"out": 0x1000, "q": 0x2000, "k": 0x3000, "v": 0x4000,
				"group": 3, "head_dim": 64, "kv_stride": 192, "pos": 0x800000, "scale": f32(0.125)}}
		},
		"kv_store": func() built {
			l, err := d.storeKVLaunch(big(0x1000), big(0x2000), big(0x3000), big(0x4000), 192, at)
			return built{l, err, map[string]uint64{"k_cache": 0x1000, "v_cache": 0x2000, "k_new": 0x3000, "v_new": 0x4000, "n": 192, "pos": 0x800000}}
		},
		"softmax": func() built {
			l, err := d.softmaxLaunch(big(0x1000), 2, 1000)
			return built{l, err, map[string]uint64{"x": 0x1000, "n": 1000}}
		},
		"rope": func() built {
			l, err := d.ropeLaunch(rope, big(0x1000), 2, 9, 77)
			return built{l, err, map[string]uint64{"x": 0x1000, "freqs": 0x600000, "heads": 9, "head_dim": 64, "dims": 32, "pos0": 77, "neox": 1}}
		},
		"attention": func() built {
			l, err := d.attentionLaunch(big(0x1000), big(0x2000), big(0x3000), big(0x4000), shape)
			return built{l, err, map[string]uint64{"out": 0x1000, "q": 0x2000, "k": 0x3000, "v": 0x4000,
				"group": 3, "head_dim": 64, "kv_stride": 192, "npos": 100, "scale": f32(0.125)}}
		},
		"swiglu": func() built {
			l, err := d.swigluLaunch(big(0x1000), big(0x2000), big(0x3000), 1536)
			return built{l, err, map[string]uint64{"dst": 0x1000, "gate": 0x2000, "up": 0x3000, "n": 1536}}
		},
		"add": func() built {
			l, err := d.addLaunch(big(0x1000), big(0x2000), big(0x3000), 576)
			return built{l, err, map[string]uint64{"dst": 0x1000, "a": 0x2000, "b": 0x3000, "n": 576}}
		},
	}
	for _, spec := range opSpecs {
		t.Run(spec.name, func(t *testing.T) {
			build, ok := cases[spec.name]
			require.True(t, ok, "no launch test for kernel %s", spec.name)
			b := build()
			require.NoError(t, b.err)
			require.Equal(t, spec.name, b.l.kernel)
			require.Len(t, b.want, len(spec.params), "every parameter checked")
			for name, v := range b.want {
				require.Equal(t, v, argValue(t, b.l, name), "parameter %s", name)
			}
		})
	}
	require.ErrorIs(t, d.RMSNorm(big(0x1000), big(0x2000), big(0x3000), 3, 576, 1e-5), ErrClosed)
	_, err = d.ropeLaunch(rope, fakeBuffer(d, 0x1000, 4*9*64-1), 1, 9, 0)
	require.ErrorContains(t, err, "rope: 576 floats need 2304 bytes")
	_, err = d.quantizeLaunch(big(0x1000), q, 5)
	require.ErrorContains(t, err, "quantize_q8: 5 vectors")
	_, err = d.attentionLaunch(big(0x1000), big(0x2000), fakeBuffer(d, 0x3000, 4*(99*192+191)), big(0x4000), shape)
	require.ErrorContains(t, err, "attention keys")
}
