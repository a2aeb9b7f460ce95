package cuda

import (
	"fmt"
	"math"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/nn"
)

// The operations between matrix products, on device buffers of float32.
// They launch without waiting (Synchronize or a Read waits), and compute
// what the engine/nn and engine/quant functions of the same names compute.

// QuantizeQ8 quantizes vectors rows of q.N floats of x into q, as
// quant.QuantizeQ8Ref does (NaNs and infinities are not rejected).
func (d *Device) QuantizeQ8(x *Buffer, q *Q8Buffer, vectors int) error {
	return d.start(d.quantizeLaunch(x, q, vectors))
}

func (d *Device) quantizeLaunch(x *Buffer, q *Q8Buffer, vectors int) (launch, error) {
	if err := d.q8Output("quantize_q8", q, vectors); err != nil {
		return launch{}, err
	}
	if err := d.floats("quantize_q8 input", x, vectors*q.N); err != nil {
		return launch{}, err
	}
	groups := vectors * q.lay.groups
	g, err := q8Geom(groups)
	if err != nil {
		return launch{}, err
	}
	qs, ds, ss := q.vector(0)
	return newLaunch("quantize_q8", g, new(args).ptr("x", x.ptr).ptr("qs", qs).ptr("d", ds).ptr("s", ss).int("groups", groups))
}

// RMSNorm normalizes rows rows of n values of x into dst (which may be x)
// with weights w, as nn.RMSNorm.
func (d *Device) RMSNorm(dst, x, w *Buffer, rows, n int, eps float32) error {
	return d.start(d.rmsNormLaunch(dst, x, w, rows, n, eps))
}

func (d *Device) rmsNormLaunch(dst, x, w *Buffer, rows, n int, eps float32) (launch, error) {
	if err := firstError(d.floats("rmsnorm output", dst, rows*n), d.floats("rmsnorm input", x, rows*n),
		d.floats("rmsnorm weights", w, n)); err != nil {
		return launch{}, err
	}
	g, err := rowGeom("rmsnorm", rows, n)
	if err != nil {
		return launch{}, err
	}
	return newLaunch("rmsnorm", g, new(args).ptr("dst", dst.ptr).ptr("x", x.ptr).ptr("w", w.ptr).int("n", n).f32("eps", eps))
}

// RMSNormQ8 is RMSNorm of rows vectors of q.N values of x into dst
// followed by QuantizeQ8 of dst into q, in one launch; with res (nil for
// none) it first adds res to x (x += res: the residual add before a norm),
// so x holds the sum after. The results are the bits the three operations
// give. dst may alias x or res.
func (d *Device) RMSNormQ8(dst, x, res, w *Buffer, rows int, eps float32, q *Q8Buffer) error {
	return d.start(d.rmsNormQ8Launch(dst, x, res, w, rows, eps, q))
}

func (d *Device) rmsNormQ8Launch(dst, x, res, w *Buffer, rows int, eps float32, q *Q8Buffer) (launch, error) {
	if err := d.q8Output("rmsnorm_q8", q, rows); err != nil {
		return launch{}, err
	}
	n := q.N
	if err := firstError(d.floats("rmsnorm_q8 output", dst, rows*n), d.floats("rmsnorm_q8 input", x, rows*n),
		d.floats("rmsnorm_q8 weights", w, n)); err != nil {
		return launch{}, err
	}
	resPtr := devicePtr(0)
	if res != nil {
		if err := d.floats("rmsnorm_q8 residual", res, rows*n); err != nil {
			return launch{}, err
		}
		resPtr = res.ptr
	}
	g, err := rowGeom("rmsnorm_q8", rows, n)
	if err != nil {
		return launch{}, err
	}
	qs, ds, ss := q.vector(0)
	return newLaunch("rmsnorm_q8", g, new(args).ptr("dst", dst.ptr).ptr("x", x.ptr).ptr("res", resPtr).ptr("w", w.ptr).
		int("n", n).f32("eps", eps).ptr("qs", qs).ptr("d", ds).ptr("s", ss))
}

// q8Output checks that q can take vectors quantized vectors of d.
func (d *Device) q8Output(what string, q *Q8Buffer, vectors int) error {
	if q == nil || q.buf == nil || q.buf.dev != d || vectors <= 0 || vectors > q.Vectors {
		return fmt.Errorf("cuda: %s: %d vectors into a Q8 buffer that is nil, smaller or another device's", what, vectors)
	}
	return nil
}

// Softmax replaces each of rows rows of n values of x by its softmax, as
// nn.Softmax.
func (d *Device) Softmax(x *Buffer, rows, n int) error { return d.start(d.softmaxLaunch(x, rows, n)) }

func (d *Device) softmaxLaunch(x *Buffer, rows, n int) (launch, error) {
	if err := d.floats("softmax", x, rows*n); err != nil {
		return launch{}, err
	}
	g, err := rowGeom("softmax", rows, n)
	if err != nil {
		return launch{}, err
	}
	return newLaunch("softmax", g, new(args).ptr("x", x.ptr).int("n", n))
}

// Rope is a rotary position embedding whose frequency table is on the
// device.
type Rope struct {
	HeadDim, Dims int
	Neox          bool
	freqs         *Buffer
}

// NewRope uploads the frequency table of rotary embeddings with nn.NewRope's
// parameters (and checks them as it does).
func (d *Device) NewRope(headDim, dims int, base float64, neox bool) (*Rope, error) {
	if _, err := nn.NewRope(headDim, dims, base, neox); err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	buf, err := d.Alloc(8 * (dims / 2))
	if err != nil {
		return nil, err
	}
	if err := buf.Write(ropeFreqBytes(dims, base)); err != nil {
		_ = buf.Free()
		return nil, err
	}
	return &Rope{HeadDim: headDim, Dims: dims, Neox: neox, freqs: buf}, nil
}

// ropeFreqBytes returns θ_i = base^(-2i/dims) for i < dims/2 as little-endian
// float64s, the table nn.Rope computes.
func ropeFreqBytes(dims int, base float64) []byte {
	b := make([]byte, 8*(dims/2))
	for i := range dims / 2 {
		f := math.Float64bits(math.Pow(base, -2*float64(i)/float64(dims)))
		for k := range 8 {
			b[8*i+k] = byte(f >> (8 * k))
		}
	}
	return b
}

// Free releases the frequency table.
func (r *Rope) Free() error { return r.freqs.Free() }

// ApplyRope rotates rows rows of heads heads of x in place, row i at
// position pos+i, as nn.Rope.Apply does for one row.
func (d *Device) ApplyRope(r *Rope, x *Buffer, rows, heads, pos int) error {
	return d.start(d.ropeLaunch(r, x, rows, heads, pos))
}

func (d *Device) ropeLaunch(r *Rope, x *Buffer, rows, heads, pos int) (launch, error) {
	if r == nil || r.freqs == nil || r.freqs.dev != d {
		return launch{}, fmt.Errorf("cuda: rope: table is nil or another device's")
	}
	if err := d.floats("rope", x, rows*heads*r.HeadDim); err != nil {
		return launch{}, err
	}
	if pos < 0 || pos+rows > math.MaxInt32 {
		return launch{}, fmt.Errorf("cuda: rope: position %d", pos)
	}
	g, err := ropeGeom(rows, heads, r.Dims)
	if err != nil {
		return launch{}, err
	}
	return newLaunch("rope", g, new(args).ptr("x", x.ptr).ptr("freqs", r.freqs.ptr).int("heads", heads).
		int("head_dim", r.HeadDim).int("dims", r.Dims).int("pos0", pos).int("neox", boolInt(r.Neox)))
}

// AttentionShape describes one decode step of grouped-query attention over
// a KV cache whose positions are KVStride floats apart.
type AttentionShape struct {
	Heads, KVHeads, HeadDim int
	KVStride                int // floats per cached position (KVHeads*HeadDim when packed)
	Positions               int // cached positions to attend to, the new one included
	Scale                   float32
}

func (s AttentionShape) check() error {
	switch {
	case s.Heads <= 0 || s.KVHeads <= 0 || s.HeadDim <= 0 || s.Positions <= 0:
		return fmt.Errorf("cuda: attention: non-positive size in %+v", s)
	case s.Heads%s.KVHeads != 0:
		return fmt.Errorf("cuda: attention: %d heads is not a multiple of %d key/value heads", s.Heads, s.KVHeads)
	case s.KVStride < s.KVHeads*s.HeadDim:
		return fmt.Errorf("cuda: attention: key/value stride %d is below %d heads of %d", s.KVStride, s.KVHeads, s.HeadDim)
	}
	return nil
}

// Attention computes out (Heads×HeadDim) from the queries q and the key and
// value caches k and v, as the CPU decoder does for one token.
func (d *Device) Attention(out, q, k, v *Buffer, s AttentionShape) error {
	return d.start(d.attentionLaunch(out, q, k, v, s))
}

func (d *Device) attentionLaunch(out, q, k, v *Buffer, s AttentionShape) (launch, error) {
	if err := s.check(); err != nil {
		return launch{}, err
	}
	cache := (s.Positions-1)*s.KVStride + s.KVHeads*s.HeadDim
	if err := firstError(d.floats("attention output", out, s.Heads*s.HeadDim), d.floats("attention queries", q, s.Heads*s.HeadDim),
		d.floats("attention keys", k, cache), d.floats("attention values", v, cache)); err != nil {
		return launch{}, err
	}
	g, err := attnGeom(s.Heads, s.HeadDim, s.Positions, d.MaxSharedPerBlock)
	if err != nil {
		return launch{}, err
	}
	return newLaunch("attention", g, new(args).ptr("out", out.ptr).ptr("q", q.ptr).ptr("k", k.ptr).ptr("v", v.ptr).
		int("group", s.Heads/s.KVHeads).int("head_dim", s.HeadDim).int("kv_stride", s.KVStride).
		int("npos", s.Positions).f32("scale", s.Scale))
}

// SwiGLU sets dst = silu(gate)·up over n values, as nn.SwiGLU; dst may
// alias gate or up.
func (d *Device) SwiGLU(dst, gate, up *Buffer, n int) error {
	return d.start(d.swigluLaunch(dst, gate, up, n))
}

func (d *Device) swigluLaunch(dst, gate, up *Buffer, n int) (launch, error) {
	g, err := d.elementwiseGeom("swiglu", n, dst, gate, up)
	if err != nil {
		return launch{}, err
	}
	return newLaunch("swiglu", g, new(args).ptr("dst", dst.ptr).ptr("gate", gate.ptr).ptr("up", up.ptr).int("n", n))
}

// SwiGLUQ8 is SwiGLU over vectors vectors of q.N values followed by
// QuantizeQ8 of dst into q, in one launch, with the bits the two give. dst
// may alias gate or up.
func (d *Device) SwiGLUQ8(dst, gate, up *Buffer, vectors int, q *Q8Buffer) error {
	return d.start(d.swigluQ8Launch(dst, gate, up, vectors, q))
}

func (d *Device) swigluQ8Launch(dst, gate, up *Buffer, vectors int, q *Q8Buffer) (launch, error) {
	if err := d.q8Output("swiglu_q8", q, vectors); err != nil {
		return launch{}, err
	}
	n := vectors * q.N
	if err := firstError(d.floats("swiglu_q8 output", dst, n), d.floats("swiglu_q8 input", gate, n),
		d.floats("swiglu_q8 input", up, n)); err != nil {
		return launch{}, err
	}
	groups := vectors * q.lay.groups
	g, err := q8Geom(groups)
	if err != nil {
		return launch{}, err
	}
	qs, ds, ss := q.vector(0)
	return newLaunch("swiglu_q8", g, new(args).ptr("dst", dst.ptr).ptr("gate", gate.ptr).ptr("up", up.ptr).
		int("groups", groups).ptr("qs", qs).ptr("d", ds).ptr("s", ss))
}

// Add sets dst = a + b over n values, as nn.Add; dst may alias a or b.
func (d *Device) Add(dst, a, b *Buffer, n int) error { return d.start(d.addLaunch(dst, a, b, n)) }

func (d *Device) addLaunch(dst, a, b *Buffer, n int) (launch, error) {
	g, err := d.elementwiseGeom("add", n, dst, a, b)
	if err != nil {
		return launch{}, err
	}
	return newLaunch("add", g, new(args).ptr("dst", dst.ptr).ptr("a", a.ptr).ptr("b", b.ptr).int("n", n))
}

// elementwiseGeom checks an elementwise kernel's output and two inputs.
func (d *Device) elementwiseGeom(name string, n int, dst, x, y *Buffer) (launchGeom, error) {
	if err := firstError(d.floats(name+" output", dst, n), d.floats(name+" input", x, n), d.floats(name+" input", y, n)); err != nil {
		return launchGeom{}, err
	}
	return eltGeom(name, n)
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
