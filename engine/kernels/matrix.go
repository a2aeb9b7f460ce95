package kernels

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// Matrix is a row-major weight matrix of Rows rows by Cols columns stored in
// Format; row r occupies Data[r*RowBytes : (r+1)*RowBytes].
type Matrix struct {
	Name     string // tensor name, for error messages
	Format   quant.Format
	Rows     int
	Cols     int
	RowBytes int
	Data     []byte
}

// NewMatrix checks that data holds rows×cols weights in format f.
func NewMatrix(name string, f quant.Format, rows, cols int, data []byte) (*Matrix, error) {
	rb, err := f.RowBytes(cols)
	if err != nil {
		return nil, fmt.Errorf("kernels: tensor %s: %w", name, err)
	}
	if rows <= 0 {
		return nil, fmt.Errorf("kernels: tensor %s: %d rows", name, rows)
	}
	if len(data) != rows*rb {
		return nil, fmt.Errorf("kernels: tensor %s: %d×%d %s needs %d bytes, got %d (truncated or wrong type)",
			name, rows, cols, f, rows*rb, len(data))
	}
	return &Matrix{Name: name, Format: f, Rows: rows, Cols: cols, RowBytes: rb, Data: data}, nil
}

// Row returns row r as a quant.Row view.
func (m *Matrix) Row(r int) quant.Row {
	return quant.Row{Format: m.Format, N: m.Cols, Data: m.Data[r*m.RowBytes : (r+1)*m.RowBytes]}
}

// Bytes returns the size of the weight data in bytes.
func (m *Matrix) Bytes() int { return len(m.Data) }
