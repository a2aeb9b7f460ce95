package decoder

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/x448/float16"
)

// Linear is a weight matrix y = W·x of Rows outputs by Cols inputs. The
// engine's formats run on engine/kernels: F32 multiplies floats, Int2/4/8
// multiply Q8-quantized activations. ggml's Q8_0 (as llama.cpp's files
// store it) runs as llama.cpp computes it: activations quantized to Q8_0
// blocks with f16 scales, integer block sums, one float multiply per block.
type Linear struct {
	m    *kernels.Matrix // engine formats
	q8_0 []byte          // ggml Q8_0 rows, when m.Format is not used
	name string
	rows int
	cols int
}

// NewLinear wraps a matrix in one of the engine's formats.
func NewLinear(m *kernels.Matrix) *Linear {
	return &Linear{m: m, name: m.Name, rows: m.Rows, cols: m.Cols}
}

// NewLinearQ8_0 wraps ggml Q8_0 data of rows×cols weights.
func NewLinearQ8_0(name string, rows, cols int, data []byte) (*Linear, error) {
	rb, err := quant.GGMLQ8_0.RowBytes(cols)
	if err != nil {
		return nil, fmt.Errorf("decoder: tensor %s: %w", name, err)
	}
	if len(data) != rows*rb {
		return nil, fmt.Errorf("decoder: tensor %s: %d×%d q8_0 needs %d bytes, got %d", name, rows, cols, rows*rb, len(data))
	}
	return &Linear{q8_0: data, name: name, rows: rows, cols: cols}, nil
}

// Name returns the tensor's name.
func (l *Linear) Name() string { return l.name }

// Rows returns the number of outputs.
func (l *Linear) Rows() int { return l.rows }

// Cols returns the number of inputs.
func (l *Linear) Cols() int { return l.cols }

// Bytes returns the size of the weights.
func (l *Linear) Bytes() int {
	if l.m != nil {
		return l.m.Bytes()
	}
	return len(l.q8_0)
}

// Quantized reports whether the matrix multiplies Q8-quantized activations
// (every format but F32).
func (l *Linear) Quantized() bool { return l.m == nil || l.m.Format != quant.F32 }

// Mul computes out = W·x. q is scratch space for x's quantization (len
// Cols), used by every format but F32.
func (l *Linear) Mul(p *kernels.Pool, x, out []float32, q *quant.Q8) error {
	if l.Quantized() {
		if q == nil {
			return fmt.Errorf("decoder: tensor %s: no space for the quantized activations", l.name)
		}
		if err := p.QuantizeQ8(x, q); err != nil {
			return fmt.Errorf("decoder: tensor %s: %w", l.name, err)
		}
	}
	return l.mulOne(p, x, q, out)
}

// MulBatch computes out[t·Rows : (t+1)·Rows] = W·x_t for the activation
// vectors x_t = xs[t·Cols : (t+1)·Cols]. Unless the weights are F32, qs[t]
// must hold x_t quantized (QuantizeBatch): a batch of engine-format
// weights is one GEMM, each weight row read once for all vectors; F32 and
// ggml Q8_0 weights are multiplied one vector at a time.
func (l *Linear) MulBatch(p *kernels.Pool, xs []float32, qs []*quant.Q8, out []float32) error {
	n := len(xs) / l.cols
	if len(xs) != n*l.cols || len(out) != n*l.rows || (l.Quantized() && len(qs) != n) {
		return fmt.Errorf("decoder: tensor %s: %d×%d matrix times %d activations (%d quantized) into %d outputs",
			l.name, l.rows, l.cols, len(xs), len(qs), len(out))
	}
	if n > 1 && l.m != nil && l.m.Format != quant.F32 {
		return p.GEMM(l.m, qs, out)
	}
	for t := 0; t < n; t++ {
		var q *quant.Q8
		if l.Quantized() {
			q = qs[t]
		}
		if err := l.mulOne(p, xs[t*l.cols:(t+1)*l.cols], q, out[t*l.rows:(t+1)*l.rows]); err != nil {
			return err
		}
	}
	return nil
}

// mulOne computes out = W·x, with x quantized in q unless the weights are
// F32.
func (l *Linear) mulOne(p *kernels.Pool, x []float32, q *quant.Q8, out []float32) error {
	switch {
	case l.m != nil && l.m.Format == quant.F32:
		return p.GEMVF32(l.m, x, out)
	case l.m != nil:
		return p.GEMV(l.m, q, out)
	}
	if q == nil || q.N != l.cols || len(out) != l.rows {
		return fmt.Errorf("decoder: tensor %s: %d×%d q8_0 matrix times a vector of %d into %d outputs",
			l.name, l.rows, l.cols, q8Len(q), len(out))
	}
	mulQ8_0(l.q8_0, l.cols, q, out)
	return nil
}

// q8Len returns the length of a quantized vector, 0 for none.
func q8Len(q *quant.Q8) int {
	if q == nil {
		return 0
	}
	return q.N
}

// QuantizeBatch quantizes the activation vectors xs[t·n : (t+1)·n] into
// qs[t] (n = len(xs)/len(qs), which must be each qs[t].N), as quant.QuantizeQ8Ref does, once for all the
// matrices that multiply them; it does nothing when none of ls takes
// quantized activations.
func QuantizeBatch(p *kernels.Pool, xs []float32, qs []*quant.Q8, ls ...*Linear) error {
	var user *Linear
	for _, l := range ls {
		if l.Quantized() {
			user = l
			break
		}
	}
	if user == nil {
		return nil
	}
	n := len(xs) / max(1, len(qs))
	if len(qs) == 0 || len(xs) != len(qs)*n {
		return fmt.Errorf("decoder: tensor %s: %d activations do not fill %d quantized vectors", user.name, len(xs), len(qs))
	}
	for t, q := range qs {
		if err := p.QuantizeQ8(xs[t*n:(t+1)*n], q); err != nil {
			return fmt.Errorf("decoder: tensor %s: input %d: %w", user.name, t, err)
		}
	}
	return nil
}

// maxStackBlocks is the widest row (in Q8_0 blocks) whose activation
// scales mulQ8_0 keeps on the stack: 16384 columns.
const maxStackBlocks = 512

// mulQ8_0 is llama.cpp's Q8_0×Q8_0 product: the activation scales are
// rounded to f16 as a block_q8_0 stores them.
func mulQ8_0(w []byte, cols int, x *quant.Q8, out []float32) {
	blocks := cols / quant.QK8_0
	var stack [maxStackBlocks]float32
	dx := stack[:0]
	if blocks > maxStackBlocks {
		dx = make([]float32, 0, blocks)
	}
	for b := 0; b < blocks; b++ {
		dx = append(dx, float16.Fromfloat32(x.D[b]).Float32())
	}
	for r := range out {
		row := w[r*blocks*quant.BlockQ8_0Size:]
		var acc float32
		for b := 0; b < blocks; b++ {
			blk := row[b*quant.BlockQ8_0Size : (b+1)*quant.BlockQ8_0Size]
			dw := float16.Frombits(binary.LittleEndian.Uint16(blk)).Float32()
			var isum int32
			for i, c := range blk[2:] {
				isum += int32(int8(c)) * int32(x.Qs[b*quant.QK8_0+i])
			}
			// the product is rounded before the sum, as on amd64; without the
			// conversion arm64 fuses the two into one FMA
			acc += float32(float32(isum) * (dw * dx[b]))
		}
		out[r] = acc
	}
}

// Row decodes row r of the matrix into dst (len Cols): the embedding of
// token r when the matrix is a token embedding table.
func (l *Linear) Row(r int, dst []float32) error {
	if r < 0 || r >= l.rows {
		return fmt.Errorf("decoder: tensor %s: row %d out of range [0, %d)", l.name, r, l.rows)
	}
	if l.m == nil {
		rb := l.cols / quant.QK8_0 * quant.BlockQ8_0Size
		return quant.DequantizeGGML(quant.GGMLQ8_0, l.q8_0[r*rb:(r+1)*rb], dst)
	}
	data := l.m.Data[r*l.m.RowBytes : (r+1)*l.m.RowBytes]
	switch l.m.Format {
	case quant.F32:
		quant.DecodeF32(data, dst)
	case quant.F16:
		quant.DecodeF16(data, dst)
	default:
		quant.DequantizeRowRef(l.m.Row(r), dst)
	}
	return nil
}

func putF32(b []byte, f float32) { binary.LittleEndian.PutUint32(b, math.Float32bits(f)) }
