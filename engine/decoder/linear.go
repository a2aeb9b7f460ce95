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

// Mul computes out = W·x. q is scratch space for x's quantization (len
// Cols), used by every format but F32.
func (l *Linear) Mul(p *kernels.Pool, x, out []float32, q *quant.Q8) error {
	if l.m != nil && l.m.Format == quant.F32 {
		return p.GEMVF32(l.m, x, out)
	}
	if err := p.QuantizeQ8(x, q); err != nil {
		return fmt.Errorf("decoder: tensor %s: %w", l.name, err)
	}
	if l.m != nil {
		return p.GEMV(l.m, q, out)
	}
	mulQ8_0(l.q8_0, l.cols, q, out)
	return nil
}

// mulQ8_0 is llama.cpp's Q8_0×Q8_0 product: the activation scales are
// rounded to f16 as a block_q8_0 stores them.
func mulQ8_0(w []byte, cols int, x *quant.Q8, out []float32) {
	blocks := cols / quant.QK8_0
	dx := make([]float32, blocks)
	for b := range dx {
		dx[b] = float16.Fromfloat32(x.D[b]).Float32()
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
			acc += float32(isum) * (dw * dx[b])
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
