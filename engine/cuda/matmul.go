package cuda

import (
	"fmt"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// Matrix is a weight matrix in device memory: the rows of a
// kernels.Matrix as one buffer, layout unchanged.
type Matrix struct {
	Name     string
	Format   quant.Format
	Rows     int
	Cols     int
	RowBytes int
	buf      *Buffer
}

// checkUploadable reports why m cannot run on the GPU kernels, if it cannot.
func checkUploadable(m *kernels.Matrix) error {
	if m == nil {
		return fmt.Errorf("cuda: upload of a nil matrix")
	}
	if !m.Format.Grouped() {
		return fmt.Errorf("cuda: tensor %s: %s weights have no GPU kernels (int2, int4 and int8 do)", m.Name, m.Format)
	}
	rb, err := m.Format.RowBytes(m.Cols)
	if err != nil {
		return fmt.Errorf("cuda: tensor %s: %w", m.Name, err)
	}
	if m.Rows <= 0 || rb != m.RowBytes || len(m.Data) != m.Rows*rb {
		return fmt.Errorf("cuda: tensor %s: %d×%d %s with %d-byte rows needs %d bytes, has %d",
			m.Name, m.Rows, m.Cols, m.Format, rb, m.Rows*rb, len(m.Data))
	}
	return nil
}

// Upload copies a quantized matrix to the device.
func (d *Device) Upload(m *kernels.Matrix) (*Matrix, error) {
	if err := checkUploadable(m); err != nil {
		return nil, err
	}
	buf, err := d.Alloc(len(m.Data))
	if err != nil {
		return nil, fmt.Errorf("cuda: tensor %s: %w", m.Name, err)
	}
	if err := buf.Write(m.Data); err != nil {
		_ = buf.Free()
		return nil, fmt.Errorf("cuda: tensor %s: %w", m.Name, err)
	}
	return &Matrix{Name: m.Name, Format: m.Format, Rows: m.Rows, Cols: m.Cols, RowBytes: m.RowBytes, buf: buf}, nil
}

// Bytes returns the size of the weights in bytes.
func (m *Matrix) Bytes() int { return m.Rows * m.RowBytes }

// Free releases the matrix's device memory.
func (m *Matrix) Free() error { return m.buf.Free() }

// q8Layout places Q8 activation vectors in one device buffer: the codes of
// every vector, then their group scales, then their group sums, each
// section 256-byte aligned. Vector t's codes start at qs + t*n, its scales
// at d + 4*t*groups and its sums at s + 4*t*groups.
type q8Layout struct {
	n, vectors, groups int
	qs, d, s, size     int // byte offsets and total size
}

func alignUp(n, a int) int { return (n + a - 1) / a * a }

func newQ8Layout(n, vectors int) (q8Layout, error) {
	if n <= 0 || n%quant.GroupSize != 0 || n > 1<<30 {
		return q8Layout{}, fmt.Errorf("cuda: Q8 vectors of %d activations: not a positive multiple of %d", n, quant.GroupSize)
	}
	if vectors <= 0 || vectors > 1<<20 {
		return q8Layout{}, fmt.Errorf("cuda: %d Q8 vectors", vectors)
	}
	l := q8Layout{n: n, vectors: vectors, groups: n / quant.GroupSize}
	l.d = alignUp(vectors*n, 256)
	l.s = l.d + alignUp(4*vectors*l.groups, 256)
	l.size = l.s + 4*vectors*l.groups
	return l, nil
}

// pack writes quantized vectors into dst (l.size bytes) in the layout.
func (l q8Layout) pack(xs []*quant.Q8, dst []byte) error {
	if len(xs) == 0 || len(xs) > l.vectors {
		return fmt.Errorf("cuda: %d Q8 vectors for a buffer of %d", len(xs), l.vectors)
	}
	if len(dst) != l.size {
		return fmt.Errorf("cuda: Q8 staging of %d bytes, layout needs %d", len(dst), l.size)
	}
	for t, x := range xs {
		if x == nil || x.N != l.n || len(x.Qs) != l.n || len(x.D) != l.groups || len(x.S) != l.groups {
			return fmt.Errorf("cuda: Q8 vector %d is not %d activations", t, l.n)
		}
		for i, q := range x.Qs {
			dst[l.qs+t*l.n+i] = byte(q)
		}
		copy(dst[l.d+4*t*l.groups:], float32Bytes(x.D))
		copy(dst[l.s+4*t*l.groups:], float32Bytes(x.S))
	}
	return nil
}

// Q8Buffer holds up to Vectors quantized activation vectors of N values
// on the device, the input of MatMul.
type Q8Buffer struct {
	N       int
	Vectors int
	lay     q8Layout
	buf     *Buffer
}

// NewQ8Buffer allocates room for vectors Q8 vectors of n activations.
func (d *Device) NewQ8Buffer(n, vectors int) (*Q8Buffer, error) {
	lay, err := newQ8Layout(n, vectors)
	if err != nil {
		return nil, err
	}
	buf, err := d.Alloc(lay.size)
	if err != nil {
		return nil, err
	}
	return &Q8Buffer{N: n, Vectors: vectors, lay: lay, buf: buf}, nil
}

// Write copies quantized vectors (at most q.Vectors) to the device.
func (q *Q8Buffer) Write(xs []*quant.Q8) error {
	staging := make([]byte, q.lay.size)
	if err := q.lay.pack(xs, staging); err != nil {
		return err
	}
	return q.buf.Write(staging)
}

// Free releases the buffer's device memory.
func (q *Q8Buffer) Free() error { return q.buf.Free() }

// vector returns the device addresses of vector t's codes, scales and sums.
func (q *Q8Buffer) vector(t int) (qs, d, s devicePtr) {
	base, l := q.buf.ptr, q.lay
	return base + devicePtr(l.qs+t*l.n), base + devicePtr(l.d+4*t*l.groups), base + devicePtr(l.s+4*t*l.groups)
}

// MatMul computes out[t*m.Rows+r] = Σ_i m[r][i]·x_t[i] for the first
// vectors activation vectors of x, on the device and without waiting.
func (d *Device) MatMul(m *Matrix, x *Q8Buffer, vectors int, out *Buffer) error {
	ls, err := d.matMulLaunches(m, x, vectors, out)
	if err != nil {
		return err
	}
	return d.run(ls)
}

// matMulLaunches checks a product's operands and returns its launches.
func (d *Device) matMulLaunches(m *Matrix, x *Q8Buffer, vectors int, out *Buffer) ([]launch, error) {
	if m == nil || x == nil || m.buf == nil || m.buf.ptr == 0 || x.buf == nil || x.buf.ptr == 0 {
		return nil, fmt.Errorf("cuda: matrix product with a freed or nil operand")
	}
	if m.buf.dev != d || x.buf.dev != d {
		return nil, fmt.Errorf("cuda: tensor %s: operands belong to another device", m.Name)
	}
	if x.N != m.Cols || vectors <= 0 || vectors > x.Vectors {
		return nil, fmt.Errorf("cuda: tensor %s: %d×%d matrix times %d of %d vectors of %d activations",
			m.Name, m.Rows, m.Cols, vectors, x.Vectors, x.N)
	}
	if err := d.floats("tensor "+m.Name+" output", out, vectors*m.Rows); err != nil {
		return nil, err
	}
	g, err := mmGeom(m.Rows, d.tune, vectors > 1)
	if err != nil {
		return nil, fmt.Errorf("cuda: tensor %s: %w", m.Name, err)
	}
	var ls []launch
	for _, c := range mmPlan(m.Format, m.RowBytes, vectors) {
		qs, ds, ss := x.vector(c.first)
		a := new(args).ptr("w", m.buf.ptr).int("rows", m.Rows).int("cols", m.Cols).int("row_bytes", m.RowBytes).
			ptr("xq", qs).ptr("xd", ds).ptr("xs", ss).int("ntok", c.count).
			ptr("out", out.ptr+devicePtr(4*c.first*m.Rows)).int("ldo", m.Rows)
		l, err := newLaunch(c.kernel, g, a)
		if err != nil {
			return nil, fmt.Errorf("cuda: tensor %s: %w", m.Name, err)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// mmChunk is one launch of a matrix product: count activation vectors
// from the first-th.
type mmChunk struct {
	kernel       string
	first, count int
}

// mmPlan splits a product with vectors activation vectors into launches:
// the GEMV kernel for one vector, else GEMM launches of up to mmMaxTokens.
func mmPlan(f quant.Format, rowBytes, vectors int) []mmChunk {
	align := codeAlign(f, rowBytes)
	var plan []mmChunk
	for t0 := 0; t0 < vectors; t0 += mmMaxTokens {
		plan = append(plan, mmChunk{mmKernelName(f, align, vectors > 1), t0, min(mmMaxTokens, vectors-t0)})
	}
	return plan
}

// GEMV computes out = m·x with host activations and results, as
// kernels.Pool.GEMV does on the CPU; it waits for the result.
func (d *Device) GEMV(m *Matrix, x *quant.Q8, out []float32) error {
	return d.GEMM(m, []*quant.Q8{x}, out)
}

// GEMM computes out[t*m.Rows+r] = Σ_i m[r][i]·xs[t][i] with host
// activations and results, as kernels.Pool.GEMM does; it waits.
func (d *Device) GEMM(m *Matrix, xs []*quant.Q8, out []float32) error {
	if m == nil || len(xs) == 0 || len(out) != len(xs)*m.Rows {
		return fmt.Errorf("cuda: GEMM of %d vectors into %d outputs", len(xs), len(out))
	}
	q, err := d.NewQ8Buffer(m.Cols, len(xs))
	if err != nil {
		return fmt.Errorf("cuda: tensor %s: %w", m.Name, err)
	}
	defer func() { _ = q.Free() }()
	if err := q.Write(xs); err != nil {
		return fmt.Errorf("cuda: tensor %s: %w", m.Name, err)
	}
	res, err := d.Alloc(4 * len(out))
	if err != nil {
		return err
	}
	defer func() { _ = res.Free() }()
	if err := d.MatMul(m, q, len(xs), res); err != nil {
		return err
	}
	return res.ReadFloat32(out)
}

// TimeMatMul runs MatMul iters times back to back and returns the GPU time
// they took, measured with CUDA events.
func (d *Device) TimeMatMul(m *Matrix, x *Q8Buffer, vectors int, out *Buffer, iters int) (time.Duration, error) {
	if iters <= 0 {
		return 0, fmt.Errorf("cuda: timing %d iterations", iters)
	}
	ls, err := d.matMulLaunches(m, x, vectors, out)
	if err != nil {
		return 0, err
	}
	var el time.Duration
	err = d.do(func() error {
		if err := d.prepareLocked(); err != nil {
			return err
		}
		var err error
		el, err = d.timeLocked(iters, func() error { return d.runLocked(ls) })
		return err
	})
	return el, err
}
