package cuda

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestKernelNodeParamsLayout checks the Go struct against
// CUDA_KERNEL_NODE_PARAMS_v2's C layout on 64-bit platforms.
func TestKernelNodeParamsLayout(t *testing.T) {
	var p kernelNodeParams
	require.Equal(t, uintptr(72), unsafe.Sizeof(p))
	require.Equal(t, uintptr(8), unsafe.Offsetof(p.grid))
	require.Equal(t, uintptr(20), unsafe.Offsetof(p.block))
	require.Equal(t, uintptr(32), unsafe.Offsetof(p.shared))
	require.Equal(t, uintptr(40), unsafe.Offsetof(p.kernelParams))
	require.Equal(t, uintptr(48), unsafe.Offsetof(p.extra))
	require.Equal(t, uintptr(56), unsafe.Offsetof(p.kern))
	require.Equal(t, uintptr(64), unsafe.Offsetof(p.ctx))
}

func TestResolveGraphs(t *testing.T) {
	lookupWithout := func(absent ...string) func(string) (uintptr, error) {
		return func(name string) (uintptr, error) {
			for _, a := range absent {
				if name == a {
					return 0, errors.New("undefined symbol")
				}
			}
			return uintptr(len(name)), nil
		}
	}
	var dr driver
	dr.resolveGraphs(lookupWithout())
	require.True(t, dr.hasGraphs())
	require.Equal(t, uintptr(len("cuGraphAddKernelNode_v2")), dr.cuGraphAddKernelNode, "the _v2 function where there is one")

	dr = driver{}
	dr.resolveGraphs(lookupWithout("cuGraphAddKernelNode_v2", "cuGraphExecKernelNodeSetParams_v2"))
	require.True(t, dr.hasGraphs(), "the first versions read the same leading fields")
	require.Equal(t, uintptr(len("cuGraphAddKernelNode")), dr.cuGraphAddKernelNode)

	dr = driver{}
	dr.resolveGraphs(lookupWithout("cuGraphInstantiateWithFlags"))
	require.False(t, dr.hasGraphs(), "a driver before CUDA 11.4 runs batches kernel by kernel")
	require.Zero(t, dr.cuGraphCreate, "nothing half set")
}

// testLaunch builds a launch of the add kernel with the given operands.
func testLaunch(t *testing.T, dst, a, b devicePtr, n int) launch {
	t.Helper()
	g, err := eltGeom("add", n)
	require.NoError(t, err)
	l, err := newLaunch("add", g, new(args).ptr("dst", dst).ptr("a", a).ptr("b", b).int("n", n))
	require.NoError(t, err)
	return l
}

func TestChangedLaunches(t *testing.T) {
	prev := []launch{testLaunch(t, 1, 2, 3, 64), testLaunch(t, 4, 5, 6, 64), testLaunch(t, 7, 8, 9, 64)}
	same := []launch{testLaunch(t, 1, 2, 3, 64), testLaunch(t, 4, 5, 6, 64), testLaunch(t, 7, 8, 9, 64)}
	changed, ok := changedLaunches(prev, same)
	require.True(t, ok)
	require.Empty(t, changed, "equal arguments, nothing to update")

	next := []launch{testLaunch(t, 1, 2, 3, 64), testLaunch(t, 4, 5, 60, 64), testLaunch(t, 7, 8, 9, 1000)}
	changed, ok = changedLaunches(prev, next)
	require.True(t, ok)
	require.Equal(t, []int{1, 2}, changed, "a new pointer, and a new size with its new grid")

	_, ok = changedLaunches(prev, next[:2])
	require.False(t, ok, "fewer launches: rebuild")
	q8, err := newLaunch("quantize_q8", mustGeom(t, 2), new(args).ptr("x", 1).ptr("qs", 2).ptr("d", 3).ptr("s", 4).int("groups", 2))
	require.NoError(t, err)
	_, ok = changedLaunches(prev, []launch{prev[0], q8, prev[2]})
	require.False(t, ok, "another kernel: rebuild")
}

func mustGeom(t *testing.T, groups int) launchGeom {
	t.Helper()
	g, err := q8Geom(groups)
	require.NoError(t, err)
	return g
}

func TestBatchStopsAtTheFirstBadOperation(t *testing.T) {
	d := fakeDevice()
	x := fakeBuffer(d, 0x1000, 4*64)
	b := d.NewBatch()
	b.Add(x, x, x, 64)
	b.Add(x, x, x, 65) // one float past the buffers
	b.Add(x, x, x, 64)
	require.Equal(t, 1, b.Len(), "nothing collected after the error")
	require.ErrorContains(t, b.Err(), "batch operation 1")
	require.ErrorIs(t, b.Run(), b.Err())
	require.ErrorIs(t, d.NewGraph().Run(b), b.Err())

	ok := d.NewBatch()
	ok.Add(x, x, x, 64)
	require.NoError(t, ok.Err())
	require.ErrorIs(t, ok.Run(), ErrClosed, "a valid batch on a closed device reaches no driver")
	require.ErrorIs(t, d.NewGraph().Run(ok), ErrClosed)
	require.ErrorContains(t, fakeDevice().NewGraph().Run(ok), "another device")
	require.NoError(t, d.NewGraph().Close(), "closing an empty graph needs no device")
}

func TestFusedOpErrors(t *testing.T) {
	d := fakeDevice()
	big := fakeBuffer(d, 0x1000, 1<<20)
	lay, err := newQ8Layout(576, 2)
	require.NoError(t, err)
	q := &Q8Buffer{N: 576, Vectors: 2, lay: lay, buf: fakeBuffer(d, 0x500000, lay.size)}
	_, err = d.rmsNormQ8Launch(big, big, nil, big, 1, 1e-5, nil)
	require.ErrorContains(t, err, "rmsnorm_q8: 1 vectors into a Q8 buffer that is nil")
	_, err = d.rmsNormQ8Launch(big, big, nil, big, 3, 1e-5, q)
	require.ErrorContains(t, err, "rmsnorm_q8: 3 vectors", "more rows than the Q8 buffer holds")
	_, err = d.rmsNormQ8Launch(big, big, fakeBuffer(d, 0x2000, 4*576-4), big, 1, 1e-5, q)
	require.ErrorContains(t, err, "rmsnorm_q8 residual")
	l, err := d.rmsNormQ8Launch(big, big, nil, big, 2, 1e-5, q)
	require.NoError(t, err)
	require.Equal(t, uint64(0), argValue(t, l, "res"), "no residual: a null pointer")
	_, err = d.swigluQ8Launch(big, fakeBuffer(d, 0x2000, 4*576), big, 2, q)
	require.ErrorContains(t, err, "swiglu_q8 input")
	_, err = d.swigluQ8Launch(big, big, big, 1, &Q8Buffer{N: 576, Vectors: 1, lay: lay, buf: fakeBuffer(fakeDevice(), 0x500000, lay.size)})
	require.ErrorContains(t, err, "another device's")
}

func TestPositionKernelChecks(t *testing.T) {
	d := fakeDevice()
	big := fakeBuffer(d, 0x1000, 1<<20)
	at := &Position{Capacity: 100, buf: fakeBuffer(d, 0x800000, 4)}
	require.ErrorContains(t, at.Set(100), "position 100 outside a sequence of 100")
	require.ErrorContains(t, at.Set(-1), "position -1")
	require.ErrorIs(t, at.Set(5), ErrClosed, "a valid position goes to the device")

	_, err := d.storeKVLaunch(big, fakeBuffer(d, 0x2000, 4*192*99), big, big, 192, at)
	require.ErrorContains(t, err, "kv_store value cache", "the caches must hold the capacity")
	_, err = d.storeKVLaunch(big, big, big, big, 192, nil)
	require.ErrorContains(t, err, "kv_store: position is nil")
	_, err = d.storeKVLaunch(big, big, big, big, 192, &Position{Capacity: 100, buf: fakeBuffer(fakeDevice(), 0x800000, 4)})
	require.ErrorContains(t, err, "another device's")

	shape := AttentionShape{Heads: 9, KVHeads: 3, HeadDim: 64, KVStride: 192, Positions: 1, Scale: 0.125}
	l, err := d.attentionAtLaunch(big, big, big, big, shape, at)
	require.NoError(t, err)
	require.Equal(t, uint32(4*(64+100)), l.geom.shared, "scores for the whole capacity, whatever Positions says")
	huge := &Position{Capacity: 1 << 20, buf: fakeBuffer(d, 0x800000, 4)}
	cache := fakeBuffer(d, 0x1000, 4*192<<20)
	_, err = d.attentionAtLaunch(big, big, cache, cache, shape, huge)
	require.ErrorContains(t, err, "shared memory")

	_, err = d.ropeAtLaunch(nil, big, 1, 9, at)
	require.ErrorContains(t, err, "rope: table is nil")
}
