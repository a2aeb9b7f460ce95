package cuda

import "fmt"

// Batch collects the launches of several operations, built and checked as
// the Device's methods of the same names build them, to run together: one
// after another under one hold of the device (Run), or as a CUDA graph
// (Graph.Run). The first operation that cannot be built stops the batch
// from collecting more; Err, Run and Graph.Run return its error.
type Batch struct {
	d   *Device
	ls  []launch
	err error
}

// NewBatch starts an empty batch of operations on d.
func (d *Device) NewBatch() *Batch { return &Batch{d: d} }

// Err returns the error of the first operation that could not be built.
func (b *Batch) Err() error { return b.err }

// Len returns the number of kernel launches collected.
func (b *Batch) Len() int { return len(b.ls) }

// Run launches the batch on the device in order, without waiting.
func (b *Batch) Run() error {
	if b.err != nil {
		return b.err
	}
	return b.d.run(b.ls)
}

func (b *Batch) add(l launch, err error) {
	if b.err == nil && err != nil {
		b.err = fmt.Errorf("cuda: batch operation %d: %w", len(b.ls), err)
	}
	if b.err == nil {
		b.ls = append(b.ls, l)
	}
}

// MatMul adds Device.MatMul's product.
func (b *Batch) MatMul(m *Matrix, x *Q8Buffer, vectors int, out *Buffer) {
	ls, err := b.d.matMulLaunches(m, x, vectors, out)
	if err != nil {
		b.add(launch{}, err)
		return
	}
	for _, l := range ls {
		b.add(l, nil)
	}
}

// QuantizeQ8 adds Device.QuantizeQ8's quantization.
func (b *Batch) QuantizeQ8(x *Buffer, q *Q8Buffer, vectors int) {
	b.add(b.d.quantizeLaunch(x, q, vectors))
}

// RMSNorm adds Device.RMSNorm's normalization.
func (b *Batch) RMSNorm(dst, x, w *Buffer, rows, n int, eps float32) {
	b.add(b.d.rmsNormLaunch(dst, x, w, rows, n, eps))
}

// ApplyRope adds Device.ApplyRope's rotation.
func (b *Batch) ApplyRope(r *Rope, x *Buffer, rows, heads, pos int) {
	b.add(b.d.ropeLaunch(r, x, rows, heads, pos))
}

// ApplyRopeAt adds Device.ApplyRopeAt's rotation.
func (b *Batch) ApplyRopeAt(r *Rope, x *Buffer, rows, heads int, p *Position) {
	b.add(b.d.ropeAtLaunch(r, x, rows, heads, p))
}

// AttentionAt adds Device.AttentionAt's decode step.
func (b *Batch) AttentionAt(out, q, k, v *Buffer, s AttentionShape, p *Position) {
	b.add(b.d.attentionAtLaunch(out, q, k, v, s, p))
}

// StoreKV adds Device.StoreKV's cache write.
func (b *Batch) StoreKV(kCache, vCache, kNew, vNew *Buffer, n int, p *Position) {
	b.add(b.d.storeKVLaunch(kCache, vCache, kNew, vNew, n, p))
}

// RMSNormQ8 adds Device.RMSNormQ8's fused residual add, norm and
// quantization.
func (b *Batch) RMSNormQ8(dst, x, res, w *Buffer, rows int, eps float32, q *Q8Buffer) {
	b.add(b.d.rmsNormQ8Launch(dst, x, res, w, rows, eps, q))
}

// SwiGLUQ8 adds Device.SwiGLUQ8's fused activation and quantization.
func (b *Batch) SwiGLUQ8(dst, gate, up *Buffer, vectors int, q *Q8Buffer) {
	b.add(b.d.swigluQ8Launch(dst, gate, up, vectors, q))
}

// Add adds Device.Add's sum.
func (b *Batch) Add(dst, x, y *Buffer, n int) { b.add(b.d.addLaunch(dst, x, y, n)) }
