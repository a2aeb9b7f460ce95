package quant

import (
	"fmt"
	"math"
)

// Method selects how QuantizeRow and QuantizeMatrix choose each group's
// scale and offset.
type Method uint8

const (
	// MinMax maps each group's range onto the codes: the scale is
	// (max-min)/(2^bits-1) rounded up to a ScaleCode (raised further when the
	// offset that reaches the range would not fit its byte), the offset
	// centres the grid on the range, rounded to the format's offset unit, and
	// each code is the nearest one, so every weight is within d/2 of its
	// value. Int8 has no offset: its scale is max(max/127, -min/128) rounded
	// up. A constant group gets the representable value nearest to it
	// (exactly itself when it is representable, 0 included).
	MinMax Method = iota
	// Search minimizes each group's weighted squared error
	// Σ_i w_i (x_i - d(q_i+o))². It tries every scale code from searchLow to
	// searchHigh times the MinMax scale, moving each one's offset to the
	// weighted least-squares optimum of its codes (rounded to the offset
	// unit) a few times, then refits scale and offset jointly to the best
	// codes found and tries the scale codes around that fit. It keeps the
	// MinMax encoding unless it finds a strictly better one, so it is never
	// worse than MinMax. Int8 searches only the scale. Constant groups are
	// encoded as by MinMax.
	Search
)

// String returns the method's lower-case name.
func (m Method) String() string {
	switch m {
	case MinMax:
		return "minmax"
	case Search:
		return "search"
	}
	return fmt.Sprintf("method(%d)", uint8(m))
}

// Options configures QuantizeRow and QuantizeMatrix.
type Options struct {
	// Method chooses the scales and offsets (MinMax by default).
	Method Method
	// Importance optionally weights the squared error of column i by
	// Importance[i] (as llama.cpp's imatrix does); it holds one finite
	// non-negative weight per column of the row. Nil weights every column 1,
	// so Search then minimizes the plain squared error that RowError reports.
	Importance []float32
}

// Search tuning: candidate scales span searchLow..searchHigh times the
// MinMax scale, and each candidate's offset is refined at most
// searchRefinements times.
const (
	searchLow         = 0.6
	searchHigh        = 1.1
	searchRefinements = 3
)

// QuantizeRow encodes one row of weights src into dst, which must hold
// exactly f.RowBytes(len(src)) bytes, for a grouped format (Int2, Int4 or
// Int8). Errors name the offending column.
func QuantizeRow(f Format, src []float32, dst []byte, opt Options) error {
	q, err := newQuantizer(f, opt, len(src))
	if err != nil {
		return err
	}
	if err := q.row(src, dst); err != nil {
		return fmt.Errorf("quant: %s row: %w", f, err)
	}
	return nil
}

// QuantizeMatrix encodes the row-major rows×cols tensor src into dst, which
// must hold exactly rows·f.RowBytes(cols) bytes. Errors name the tensor and,
// where it applies, the row and column.
func QuantizeMatrix(name string, f Format, src []float32, rows, cols int, dst []byte, opt Options) error {
	if rows <= 0 || cols <= 0 {
		return fmt.Errorf("quant: tensor %q: shape %dx%d is not positive", name, rows, cols)
	}
	if len(src)/cols != rows || len(src)%cols != 0 {
		return fmt.Errorf("quant: tensor %q: %d weights do not form a %dx%d matrix", name, len(src), rows, cols)
	}
	q, err := newQuantizer(f, opt, cols)
	if err != nil {
		return fmt.Errorf("quant: tensor %q: %w", name, err)
	}
	if len(dst)/q.rowBytes != rows || len(dst)%q.rowBytes != 0 {
		return fmt.Errorf("quant: tensor %q: %s %dx%d needs %d bytes, got %d", name, f, rows, cols, rows*q.rowBytes, len(dst))
	}
	for r := 0; r < rows; r++ {
		if err := q.row(src[r*cols:(r+1)*cols], dst[r*q.rowBytes:(r+1)*q.rowBytes]); err != nil {
			return fmt.Errorf("quant: tensor %q row %d: %w", name, r, err)
		}
	}
	return nil
}

// RowError returns the weighted squared error Σ_i w_i (src_i - r_i)² of the
// encoded row r against the weights src it was made from, with w = importance,
// or 1 for every column when importance is nil.
func RowError(r Row, src, importance []float32) (float64, error) {
	if !r.Format.Grouped() {
		return 0, fmt.Errorf("quant: row error: %s rows have no groups", r.Format)
	}
	if _, err := NewRow(r.Format, r.N, r.Data); err != nil {
		return 0, fmt.Errorf("quant: row error: %w", err)
	}
	if len(src) != r.N {
		return 0, fmt.Errorf("quant: row error: %d weights for a row of %d", len(src), r.N)
	}
	if importance != nil && len(importance) != r.N {
		return 0, fmt.Errorf("quant: row error: %d importance weights for a row of %d", len(importance), r.N)
	}
	var sum float64
	for g := 0; g < r.Groups(); g++ {
		sum += groupError(r, g, src[g*GroupSize:(g+1)*GroupSize], groupWeights(importance, g))
	}
	return sum, nil
}

// groupWeights returns group g's importance weights, or nil for uniform ones.
func groupWeights(importance []float32, g int) []float32 {
	if importance == nil {
		return nil
	}
	return importance[g*GroupSize : (g+1)*GroupSize]
}

// groupError returns Σ w_j (x_j - decoded_j)² over group g of r, decoding
// exactly as DequantizeRowRef does; nil w weights every weight 1.
func groupError(r Row, g int, x, w []float32) float64 {
	d, o := r.GroupScale(g)
	var sum float64
	for j, v := range x {
		e := float64(v) - float64(d*(float32(r.Code(g*GroupSize+j))+o))
		if w != nil {
			sum += float64(w[j]) * e * e
		} else {
			sum += e * e
		}
	}
	return sum
}

// rowQuantizer holds what every row of one tensor shares.
type rowQuantizer struct {
	format     Format
	method     Method
	importance []float32
	rowBytes   int
	qmax       float32 // largest code
	unit       float32 // offset unit, 0 for Int8
	ones       [GroupSize]float32
}

// newQuantizer checks the format, method and importance for rows of n weights.
func newQuantizer(f Format, opt Options, n int) (*rowQuantizer, error) {
	if !f.Grouped() {
		return nil, fmt.Errorf("quant: cannot quantize to %s (want int8, int4 or int2)", f)
	}
	if opt.Method != MinMax && opt.Method != Search {
		return nil, fmt.Errorf("quant: unknown quantization %s", opt.Method)
	}
	rb, err := f.RowBytes(n)
	if err != nil {
		return nil, err
	}
	if imp := opt.Importance; imp != nil {
		if len(imp) != n {
			return nil, fmt.Errorf("quant: importance has %d weights for rows of %d", len(imp), n)
		}
		for i, v := range imp {
			if !(v >= 0) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("quant: importance of column %d is %v, want a finite non-negative number", i, v)
			}
		}
	}
	q := &rowQuantizer{
		format: f, method: opt.Method, importance: opt.Importance, rowBytes: rb,
		qmax: float32(int(1)<<f.Bits() - 1), unit: f.OffsetUnit(),
	}
	for j := range q.ones {
		q.ones[j] = 1
	}
	return q, nil
}

// row encodes one row of the quantizer's width. Its errors name the column
// but not the row or tensor.
func (q *rowQuantizer) row(src []float32, dst []byte) error {
	if len(dst) != q.rowBytes {
		return fmt.Errorf("%d weights need %d bytes, got %d", len(src), q.rowBytes, len(dst))
	}
	for i, v := range src {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("weight in column %d is %v", i, v)
		}
	}
	r := Row{Format: q.format, N: len(src), Data: dst}
	for g := 0; g < r.Groups(); g++ {
		w := groupWeights(q.importance, g)
		if w == nil {
			w = q.ones[:]
		}
		if err := q.group(r, g, src[g*GroupSize:(g+1)*GroupSize], w); err != nil {
			return err
		}
	}
	return nil
}

// group encodes group g of r from its weights x with importance w.
func (q *rowQuantizer) group(r Row, g int, x, w []float32) error {
	lo, hi := float64(x[0]), float64(x[0])
	for _, v := range x[1:] {
		lo, hi = min(lo, float64(v)), max(hi, float64(v))
	}
	dNeed := q.minMaxScale(lo, hi)
	c, ok := scaleCodeCeil(dNeed)
	if !ok {
		return fmt.Errorf("columns %d..%d (range %g..%g) need a scale of %g, above the largest group scale %g",
			g*GroupSize, (g+1)*GroupSize-1, lo, hi, dNeed, MaxScale)
	}
	if lo == hi {
		if cc, m, found := q.constant(x[0]); found {
			q.encode(r, g, x, cc, m)
			return nil
		}
	}
	m := q.centredOffset(c, lo, hi)
	q.encode(r, g, x, c, m)
	if q.method != Search {
		return nil
	}
	sc, sm, better := q.search(x, w, lo, hi, dNeed, c, m)
	if !better {
		return nil
	}
	before := groupError(r, g, x, w)
	q.encode(r, g, x, sc, sm)
	if groupError(r, g, x, w) >= before {
		q.encode(r, g, x, c, m)
	}
	return nil
}

// minMaxScale returns the smallest scale whose grid, with some representable
// offset, covers lo..hi.
func (q *rowQuantizer) minMaxScale(lo, hi float64) float64 {
	if q.unit == 0 {
		return max(hi/127, lo/-128, 0)
	}
	omin, omax := float64(q.offset(-128)), float64(q.offset(127))
	qmax := float64(q.qmax)
	return max((hi-lo)/qmax, hi/(omax+qmax), lo/omin, 0)
}

// scaleCodeCeil returns the smallest scale code whose value is >= d, and
// false if d exceeds MaxScale.
func scaleCodeCeil(d float64) (ScaleCode, bool) {
	if d > float64(MaxScale) {
		return 0, false
	}
	c := ScaleCodeFloor(float32(d))
	if float64(c.Float()) < d {
		c++
	}
	return c, true
}

// offset returns the offset o of offset code m (Int8: the fixed -128),
// as Row.GroupScale decodes it.
func (q *rowQuantizer) offset(m int) float32 {
	if q.unit == 0 {
		return -128
	}
	return float32(int8(m)) * q.unit
}

// offsetCode rounds the offset o to the nearest representable code.
func (q *rowQuantizer) offsetCode(o float64) int {
	if q.unit == 0 {
		return 0
	}
	return int(math.Round(min(max(o/float64(q.unit), -128), 127)))
}

// centredOffset returns the offset code that centres the grid of scale c on
// lo..hi.
func (q *rowQuantizer) centredOffset(c ScaleCode, lo, hi float64) int {
	return q.offsetCode((lo+hi)/(2*float64(c.Float())) - float64(q.qmax)/2)
}

// code returns the nearest code to v = x/d - o (rounding halves up).
func (q *rowQuantizer) code(v float32) uint8 {
	return uint8(min(max(v+0.5, 0), q.qmax+0.5))
}

// encode stores group g with scale code c, offset code m and the nearest
// codes for x.
func (q *rowQuantizer) encode(r Row, g int, x []float32, c ScaleCode, m int) {
	r.Scales()[g] = byte(c)
	if offs := r.Offsets(); offs != nil {
		offs[g] = byte(int8(m))
	}
	d, o := r.GroupScale(g)
	inv := 1 / d
	for j, v := range x {
		r.setCode(g*GroupSize+j, q.code(v*inv-o))
	}
}

// eval returns the weighted squared error of x encoded with scale d and
// offset o, and Σ w_j q_j over the codes it assigns.
func (q *rowQuantizer) eval(x, w []float32, d, o float32) (sqErr, sumWQ float64) {
	// Accumulate in code units (t - q = (x - d(q+o))/d, up to rounding) and
	// in float32: the search only ranks candidates, and group() compares its
	// pick with MinMax's exactly.
	inv := 1 / d
	var se, swq float32
	for j, v := range x {
		t := v*inv - o
		c := float32(q.code(t))
		se += w[j] * (t - c) * (t - c)
		swq += w[j] * c
	}
	return float64(se) * float64(d) * float64(d), float64(swq)
}

// search looks for a (scale code, offset code) pair with a lower weighted
// error than MinMax's (c0, m0), as Search's doc describes; it returns false
// when it finds none.
func (q *rowQuantizer) search(x, w []float32, lo, hi, dNeed float64, c0 ScaleCode, m0 int) (ScaleCode, int, bool) {
	s := groupSearch{q: q, x: x, w: w, c: c0, m: m0}
	for j, v := range x {
		s.sumW += float64(w[j])
		s.sumWX += float64(w[j]) * float64(v)
	}
	if s.sumW == 0 {
		return c0, m0, false
	}
	s.best, _ = q.eval(x, w, c0.Float(), q.offset(m0))
	first := int(ScaleCodeFloor(float32(dNeed * searchLow)))
	last, ok := scaleCodeCeil(dNeed * searchHigh)
	if !ok {
		last = 255
	}
	for c := first; c <= int(last); c++ {
		s.try(ScaleCode(c), q.centredOffset(ScaleCode(c), lo, hi))
	}
	if q.unit == 0 {
		return s.c, s.m, s.better
	}
	d, b, ok := s.fit()
	if !ok {
		return s.c, s.m, s.better
	}
	if near, err := NearestScaleCode(float32(d)); err == nil {
		for c := max(int(near)-1, 0); c <= min(int(near)+1, 255); c++ {
			s.try(ScaleCode(c), q.offsetCode(b/float64(ScaleCode(c).Float())))
		}
	}
	return s.c, s.m, s.better
}

// groupSearch is the state of one group's search.
type groupSearch struct {
	q           *rowQuantizer
	x, w        []float32
	sumW, sumWX float64 // Σ w, Σ w·x
	best        float64 // weighted error of (c, m)
	c           ScaleCode
	m           int
	better      bool // (c, m) beats MinMax
}

// try evaluates scale code c starting from offset code m, moving the offset
// to the weighted least-squares optimum of the codes it assigns up to
// searchRefinements times, and keeps the best pair seen.
func (s *groupSearch) try(c ScaleCode, m int) {
	d := c.Float()
	for it := 0; it < searchRefinements; it++ {
		e, sumWQ := s.q.eval(s.x, s.w, d, s.q.offset(m))
		if e < s.best {
			s.best, s.c, s.m, s.better = e, c, m, true
		}
		if s.q.unit == 0 {
			return
		}
		next := s.q.offsetCode((s.sumWX/float64(d) - sumWQ) / s.sumW)
		if next == m {
			return
		}
		m = next
	}
}

// fit returns the scale d and shift b minimizing Σ w (x - (d·q + b))² for
// the codes q of the best pair so far; ok is false when that fit is
// degenerate (all weight on one code) or its scale is not positive.
func (s *groupSearch) fit() (d, b float64, ok bool) {
	sd, o := s.c.Float(), s.q.offset(s.m)
	inv := 1 / sd
	var swq, swqq, swqx float64
	for j, v := range s.x {
		qc, wj := float64(s.q.code(v*inv-o)), float64(s.w[j])
		swq += wj * qc
		swqq += wj * qc * qc
		swqx += wj * qc * float64(v)
	}
	det := s.sumW*swqq - swq*swq
	if !(det > 0) {
		return 0, 0, false
	}
	d = (s.sumW*swqx - swq*s.sumWX) / det
	return d, (s.sumWX - d*swq) / s.sumW, d > 0
}

// constant returns the scale and offset codes that represent v most closely
// when every weight of a group is v (exactly, when v is representable);
// found is false if no scale fits.
func (q *rowQuantizer) constant(v float32) (c ScaleCode, m int, found bool) {
	if v == 0 {
		// Code 0 (Int2, Int4) or 128 (Int8) with offset code 0 decodes to 0.
		return 0, 0, true
	}
	bestErr := math.Inf(1)
	try := func(qc, mc int) {
		k := float32(qc) + q.offset(mc)
		if k == 0 || (k > 0) != (v > 0) {
			return
		}
		sc, err := NearestScaleCode(v / k)
		if err != nil {
			return
		}
		if e := math.Abs(float64(v) - float64(sc.Float()*k)); e < bestErr {
			bestErr, c, m, found = e, sc, mc, true
		}
	}
	if q.unit == 0 {
		for qc := 0; qc <= int(q.qmax) && bestErr > 0; qc++ {
			try(qc, 0)
		}
		return c, m, found
	}
	// Every representable multiple units·unit of the offset unit once: as
	// the offset code units with code 0, or, past the offset byte, as the
	// smallest code qc that brings the offset code units - qc/unit into it.
	perCode := int(1 / q.unit)
	for units := -128; units <= 127+int(q.qmax)*perCode && bestErr > 0; units++ {
		qc := max(0, (units-127+perCode-1)/perCode)
		try(qc, units-qc*perCode)
	}
	return c, m, found
}
