package quantize

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// chunkWeights bounds the weights decoded at once, so converting a tensor
// holds a few MiB of float32 however large the tensor is.
const chunkWeights = 1 << 20

// tensorJob converts one tensor: it decodes the source rows chunk by
// chunk, checks them, encodes them in the planned type and streams the
// result, accumulating the squared error and the source's squared norm.
type tensorJob struct {
	plan    TensorPlan
	src     []byte
	threads int
	// progress is called after each chunk with the weights just converted.
	progress func(weights int64) error

	sqErr, sqNorm float64
}

// shape returns the tensor as rows of cols weights (a 1-D tensor is one row).
func (j *tensorJob) shape() (rows, cols int) {
	if len(j.plan.Dims) == 0 {
		return 1, 1
	}
	cols = int(j.plan.Dims[0])
	rows = 1
	for _, d := range j.plan.Dims[1:] {
		rows *= int(d)
	}
	return rows, cols
}

// write streams the converted tensor to w. A copied tensor of a decodable
// type is still decoded, to check it for NaN and infinities.
func (j *tensorJob) write(w io.Writer) error {
	rows, cols := j.shape()
	if j.plan.Copy && !decodable(j.plan.In) {
		if _, err := w.Write(j.src); err != nil {
			return err
		}
		return j.progress(int64(rows) * int64(cols))
	}
	if rows == 0 || cols == 0 {
		return j.progress(0)
	}
	inRB, err := rowBytes(j.plan.In, cols)
	if err != nil {
		return err
	}
	outRB, err := rowBytes(j.plan.Out, cols)
	if err != nil {
		return err
	}
	if len(j.src) != rows*inRB {
		return fmt.Errorf("%s data has %d bytes, want %d", j.plan.In, len(j.src), rows*inRB)
	}
	step := max(1, chunkWeights/cols)
	buf := make([]float32, min(step, rows)*cols)
	var out []byte
	if !j.plan.Copy {
		out = make([]byte, min(step, rows)*outRB)
	}
	for r0 := 0; r0 < rows; r0 += step {
		n := min(step, rows-r0)
		x, in := buf[:n*cols], j.src[r0*inRB:(r0+n)*inRB]
		if err := decodeRows(j.plan.In, in, x, cols); err != nil {
			return fmt.Errorf("rows %d..%d: %w", r0, r0+n-1, err)
		}
		if err := checkFinite(x, r0, cols); err != nil {
			return err
		}
		o := in
		if !j.plan.Copy {
			o = out[:n*outRB]
			if err := j.encode(x, o, r0, cols, outRB); err != nil {
				return err
			}
		}
		if _, err := w.Write(o); err != nil {
			return err
		}
		if err := j.progress(int64(n) * int64(cols)); err != nil {
			return err
		}
	}
	return nil
}

// encode stores the rows x (the first is row r0) in the planned type into
// o, adding their errors to the job's sums.
func (j *tensorJob) encode(x []float32, o []byte, r0, cols, outRB int) error {
	f, _ := j.plan.Out.Format() // Plan only converts to engine formats
	for _, v := range x {
		j.sqNorm += float64(v) * float64(v)
	}
	switch f {
	case quant.F32:
		for i, v := range x {
			binary.LittleEndian.PutUint32(o[4*i:], math.Float32bits(v))
		}
		return nil
	case quant.F16:
		quant.EncodeF16(x, o)
		back := make([]float32, len(x))
		quant.DecodeF16(o, back)
		for i, v := range x {
			e := float64(v) - float64(back[i])
			j.sqErr += e * e
		}
		return nil
	}
	n := len(x) / cols
	parts := min(max(j.threads, 1), n)
	errs := make([]error, parts)
	sums := make([]float64, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*n/parts, (p+1)*n/parts
		wg.Go(func() {
			sums[p], errs[p] = encodeRows(f, x, o, lo, hi, r0, cols, outRB)
		})
	}
	wg.Wait()
	for p := range parts {
		if errs[p] != nil {
			return errs[p]
		}
		j.sqErr += sums[p]
	}
	return nil
}

// encodeRows quantizes rows lo..hi-1 of x into o with the Search method and
// returns their summed squared error; r0 is the tensor row of x's first row.
func encodeRows(f quant.Format, x []float32, o []byte, lo, hi, r0, cols, outRB int) (float64, error) {
	var sum float64
	opt := quant.Options{Method: quant.Search}
	for r := lo; r < hi; r++ {
		src, dst := x[r*cols:(r+1)*cols], o[r*outRB:(r+1)*outRB]
		if err := quant.QuantizeRow(f, src, dst, opt); err != nil {
			return 0, fmt.Errorf("row %d: %w", r0+r, err)
		}
		e, err := quant.RowError(quant.Row{Format: f, N: cols, Data: dst}, src, nil)
		if err != nil {
			return 0, fmt.Errorf("row %d: %w", r0+r, err)
		}
		sum += e
	}
	return sum, nil
}

// rowBytes returns the bytes a row of n weights of type t occupies.
func rowBytes(t gguf.Type, n int) (int, error) {
	size, err := gguf.TensorBytes(t, []uint64{uint64(n)})
	if err != nil {
		return 0, err
	}
	return int(size), nil
}

// decodeRows decodes rows of cols weights of type t from src into dst.
func decodeRows(t gguf.Type, src []byte, dst []float32, cols int) error {
	if f, ok := t.Format(); ok && f.Grouped() {
		rb, err := f.RowBytes(cols)
		if err != nil {
			return err
		}
		for r := range len(dst) / cols {
			row, err := quant.NewRow(f, cols, src[r*rb:(r+1)*rb])
			if err != nil {
				return err
			}
			quant.DequantizeRowRef(row, dst[r*cols:(r+1)*cols])
		}
		return nil
	}
	return quant.DequantizeGGML(quant.GGMLType(t), src, dst)
}

// checkFinite fails on the first NaN or infinite weight of x, whose first
// row is tensor row r0.
func checkFinite(x []float32, r0, cols int) error {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("weight at row %d, column %d is %v", r0+i/cols, i%cols, v)
		}
	}
	return nil
}
