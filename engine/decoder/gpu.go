package decoder

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/cuda"
)

// GPUModel is a Model whose weights live in a CUDA device's memory,
// uploaded once; GPUStates run its sequences there. Only the engine's
// quantized formats (Int2, Int4, Int8) have GPU kernels: a model with F32,
// F16 or ggml Q8_0 matrices cannot be uploaded (run it on the CPU). The
// token embedding table stays in host memory: a position's embedding is
// one row, decoded on the host and copied up.
type GPUModel struct {
	m       *Model
	d       *cuda.Device
	output  *cuda.Matrix
	outNorm *cuda.Buffer
	layers  []gpuLayer
	rope    *cuda.Rope

	// The batched passes (gpu_batch.go), under mu.
	mu     sync.Mutex
	nextID int
	acts   *gpuActs            // maxGPUBatch rows, allocated by the first DecodeBatch
	passes map[string]*gpuPass // by the sequences' ids and whether logits are wanted
	host   []float32           // the embeddings and logits of a pass, on the host
}

// gpuLayer is one block's weights on the device.
type gpuLayer struct {
	attnNorm, ffnNorm          *cuda.Buffer
	q, k, v, o, gate, up, down *cuda.Matrix
}

// Upload copies the model's weights to d. The returned model must be
// closed before d.
func (m *Model) Upload(d *cuda.Device) (g *GPUModel, err error) {
	if d == nil {
		return nil, fmt.Errorf("decoder: upload to a nil device")
	}
	if len(m.Layers) == 0 {
		return nil, fmt.Errorf("decoder: upload of a model without layers")
	}
	for _, l := range m.linears() {
		switch {
		case l.m == nil:
			return nil, fmt.Errorf("decoder: tensor %s: ggml q8_0 weights have no GPU kernels (quantize the model with mmllm quantize)", l.name)
		case !l.m.Format.Grouped():
			return nil, fmt.Errorf("decoder: tensor %s: %s weights have no GPU kernels (quantize the model with mmllm quantize)", l.name, l.m.Format)
		}
	}
	g = &GPUModel{m: m, d: d}
	defer func() {
		if err != nil {
			err = errors.Join(err, g.Close())
			g = nil
		}
	}()
	upload := func(l *Linear) (*cuda.Matrix, error) {
		dm, err := d.Upload(l.m)
		if err != nil {
			return nil, fmt.Errorf("decoder: %w", err)
		}
		return dm, nil
	}
	vector := func(name string, v []float32) (*cuda.Buffer, error) {
		b, err := d.Alloc(4 * len(v))
		if err == nil {
			err = b.WriteFloat32(v)
		}
		if err != nil {
			return b, fmt.Errorf("decoder: tensor %s: %w", name, err)
		}
		return b, nil
	}
	if g.output, err = upload(m.Output); err != nil {
		return g, err
	}
	if g.outNorm, err = vector("output_norm", m.OutNorm); err != nil {
		return g, err
	}
	if g.rope, err = d.NewRope(m.HeadDim, m.RopeDim, m.RopeBase, m.RopeNeox); err != nil {
		return g, fmt.Errorf("decoder: %w", err)
	}
	g.layers = make([]gpuLayer, len(m.Layers))
	for i := range m.Layers {
		l, gl := &m.Layers[i], &g.layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		if gl.attnNorm, err = vector(p+"attn_norm", l.AttnNorm); err != nil {
			return g, err
		}
		if gl.ffnNorm, err = vector(p+"ffn_norm", l.FFNNorm); err != nil {
			return g, err
		}
		for _, w := range []struct {
			dst **cuda.Matrix
			src *Linear
		}{{&gl.q, l.Q}, {&gl.k, l.K}, {&gl.v, l.V}, {&gl.o, l.O}, {&gl.gate, l.Gate}, {&gl.up, l.Up}, {&gl.down, l.Down}} {
			if *w.dst, err = upload(w.src); err != nil {
				return g, err
			}
		}
	}
	return g, nil
}

// linears returns every matrix the forward pass multiplies (the embedding
// table is only read by rows).
func (m *Model) linears() []*Linear {
	ls := []*Linear{m.Output}
	for _, l := range m.Layers {
		ls = append(ls, l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down)
	}
	return ls
}

// Model returns the host model g was uploaded from.
func (g *GPUModel) Model() *Model { return g.m }

// Bytes returns the device memory the weights take.
func (g *GPUModel) Bytes() int {
	n := g.output.Bytes()
	for _, l := range g.layers {
		for _, w := range []*cuda.Matrix{l.q, l.k, l.v, l.o, l.gate, l.up, l.down} {
			n += w.Bytes()
		}
	}
	return n
}

// Close frees the weights' device memory (a partly uploaded model's too).
// Its states must be closed first.
func (g *GPUModel) Close() error {
	errs := []error{g.closePasses()}
	free := func(f interface{ Free() error }) {
		if f != nil {
			errs = append(errs, f.Free())
		}
	}
	for _, l := range g.layers {
		for _, w := range []*cuda.Matrix{l.q, l.k, l.v, l.o, l.gate, l.up, l.down} {
			if w != nil {
				free(w)
			}
		}
		if l.attnNorm != nil {
			free(l.attnNorm)
		}
		if l.ffnNorm != nil {
			free(l.ffnNorm)
		}
	}
	if g.output != nil {
		free(g.output)
	}
	if g.outNorm != nil {
		free(g.outNorm)
	}
	if g.rope != nil {
		free(g.rope)
	}
	g.layers, g.output, g.outNorm, g.rope = nil, nil, nil, nil
	return errors.Join(errs...)
}

// GPUState is one sequence on the device: its KV cache (position-major,
// KVDim floats per position and layer) and scratch buffers. Like State, it
// serves one sequence at a time from one goroutine.
type GPUState struct {
	g      *GPUModel
	id     int // the model's number for it, which orders batches
	Pos    int // positions in the cache
	ctxLen int
	// Logits are the next-token logits after a call that asked for them.
	Logits []float32

	cache gpuCache
	acts  *gpuActs  // one row
	host  []float32 // one embedding row, decoded on the host
	// steps are a position's kernels without (0) and with (1) logits,
	// built once: they read the position from cache.at. graphs replay
	// them; direct launches them one by one instead (for comparison in
	// tests).
	steps  [2]*cuda.Batch
	graphs [2]*cuda.Graph
	direct bool
}

// gpuCache is one sequence's KV cache and the position being computed,
// on the device.
type gpuCache struct {
	k, v []*cuda.Buffer // per layer: capacity × KVDim floats
	at   *cuda.Position
}

// gpuActs are the activations of a pass over up to rows sequences: row i
// of each buffer (and vector i of each Q8 buffer) is the pass's i-th
// sequence's.
type gpuActs struct {
	rows         int
	x, h, q, att *cuda.Buffer // Dim floats per row
	kNew, vNew   *cuda.Buffer // the new position's key and value, KVDim floats per row
	gate, up     *cuda.Buffer // FFN floats per row
	logits       *cuda.Buffer // Vocab floats per row
	qDim, qFFN   *cuda.Q8Buffer
}

// newActs allocates the activations of passes over up to rows sequences.
func (g *GPUModel) newActs(rows int) (a *gpuActs, err error) {
	m := g.m
	a = &gpuActs{rows: rows}
	defer func() {
		if err != nil {
			err = errors.Join(err, a.free())
			a = nil
		}
	}()
	for _, b := range []struct {
		dst **cuda.Buffer
		n   int
	}{{&a.x, m.Dim}, {&a.h, m.Dim}, {&a.q, m.Dim}, {&a.att, m.Dim}, {&a.gate, m.FFN}, {&a.up, m.FFN},
		{&a.logits, m.Vocab}, {&a.kNew, m.KVDim}, {&a.vNew, m.KVDim}} {
		if *b.dst, err = g.d.Alloc(4 * rows * b.n); err != nil {
			return a, err
		}
	}
	if a.qDim, err = g.d.NewQ8Buffer(m.Dim, rows); err != nil {
		return a, err
	}
	a.qFFN, err = g.d.NewQ8Buffer(m.FFN, rows)
	return a, err
}

func (a *gpuActs) free() error {
	var errs []error
	for _, b := range []*cuda.Buffer{a.x, a.h, a.q, a.att, a.gate, a.up, a.logits, a.kNew, a.vNew} {
		if b != nil {
			errs = append(errs, b.Free())
		}
	}
	for _, q := range []*cuda.Q8Buffer{a.qDim, a.qFFN} {
		if q != nil {
			errs = append(errs, q.Free())
		}
	}
	return errors.Join(errs...)
}

// NewState allocates a sequence of up to ctxLen positions on the device.
// Close it before the model.
func (g *GPUModel) NewState(ctxLen int) (s *GPUState, err error) {
	m := g.m
	if ctxLen <= 0 || ctxLen > m.Context {
		return nil, fmt.Errorf("decoder: context length %d out of range [1, %d]", ctxLen, m.Context)
	}
	s = &GPUState{g: g, id: g.newID(), ctxLen: ctxLen, Logits: make([]float32, m.Vocab), host: make([]float32, m.Dim)}
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("decoder: GPU state: %w", err), s.Close())
			s = nil
		}
	}()
	if s.acts, err = g.newActs(1); err != nil {
		return s, err
	}
	c := &s.cache
	c.k, c.v = make([]*cuda.Buffer, len(m.Layers)), make([]*cuda.Buffer, len(m.Layers))
	for i := range m.Layers {
		if c.k[i], err = g.d.Alloc(4 * ctxLen * m.KVDim); err != nil {
			return s, err
		}
		if c.v[i], err = g.d.Alloc(4 * ctxLen * m.KVDim); err != nil {
			return s, err
		}
	}
	if c.at, err = g.d.NewPosition(ctxLen); err != nil {
		return s, err
	}
	for i := range s.steps {
		if s.steps[i], err = g.buildPass(s.acts, []*gpuCache{c}, i == 1); err != nil {
			return s, err
		}
	}
	return s, nil
}

// buildPass collects the kernels of one position of each sequence of seqs
// (row i of a being seqs[i]'s), with or without the logits. The kernels
// read each sequence's position from its cache.at, so the same batch
// serves every position. The weight matrices are multiplied once for all
// the rows (the GEMM kernels; GEMV for one row); each sequence has its own
// rotary embedding, cache write and attention.
func (g *GPUModel) buildPass(a *gpuActs, seqs []*gpuCache, logits bool) (*cuda.Batch, error) {
	m, rows := g.m, len(seqs)
	if rows == 0 || rows > a.rows {
		return nil, fmt.Errorf("decoder: a pass over %d sequences with room for %d", rows, a.rows)
	}
	b := g.d.NewBatch()
	shape := cuda.AttentionShape{Heads: m.Heads, KVHeads: m.KVHeads, HeadDim: m.HeadDim, KVStride: m.KVDim,
		Scale: float32(1 / math.Sqrt(float64(m.HeadDim)))}
	// Each sequence's rows of the per-sequence operations' buffers.
	type seqRows struct{ q, att, k, v *cuda.Buffer }
	views := make([]seqRows, rows)
	for i := range views {
		var errs [4]error
		views[i].q, errs[0] = a.q.View(4*i*m.Dim, 4*m.Dim)
		views[i].att, errs[1] = a.att.View(4*i*m.Dim, 4*m.Dim)
		views[i].k, errs[2] = a.kNew.View(4*i*m.KVDim, 4*m.KVDim)
		views[i].v, errs[3] = a.vNew.View(4*i*m.KVDim, 4*m.KVDim)
		if err := errors.Join(errs[:]...); err != nil {
			return nil, err
		}
	}
	last := len(g.layers) - 1
	// The attention input of layer 0; each later layer's comes from the
	// previous layer's end, fused with its residual add.
	b.RMSNormQ8(a.h, a.x, nil, g.layers[0].attnNorm, rows, m.NormEps, a.qDim)
	for li := range g.layers {
		l := &g.layers[li]
		b.MatMul(l.q, a.qDim, rows, a.q)
		b.MatMul(l.k, a.qDim, rows, a.kNew)
		b.MatMul(l.v, a.qDim, rows, a.vNew)
		for i, c := range seqs {
			r := views[i]
			b.ApplyRopeAt(g.rope, r.q, 1, m.Heads, c.at)
			b.ApplyRopeAt(g.rope, r.k, 1, m.KVHeads, c.at)
			b.StoreKV(c.k[li], c.v[li], r.k, r.v, m.KVDim, c.at)
			b.AttentionAt(r.att, r.q, c.k[li], c.v[li], shape, c.at)
		}
		b.QuantizeQ8(a.att, a.qDim, rows)
		b.MatMul(l.o, a.qDim, rows, a.h)
		b.RMSNormQ8(a.h, a.x, a.h, l.ffnNorm, rows, m.NormEps, a.qDim) // x += h; the FFN input
		b.MatMul(l.gate, a.qDim, rows, a.gate)
		b.MatMul(l.up, a.qDim, rows, a.up)
		b.SwiGLUQ8(a.gate, a.gate, a.up, rows, a.qFFN)
		b.MatMul(l.down, a.qFFN, rows, a.h)
		switch {
		case li < last:
			b.RMSNormQ8(a.h, a.x, a.h, g.layers[li+1].attnNorm, rows, m.NormEps, a.qDim) // x += h; the next layer's input
		case logits:
			b.RMSNormQ8(a.h, a.x, a.h, g.outNorm, rows, m.NormEps, a.qDim) // x += h; the output head's input
			b.MatMul(g.output, a.qDim, rows, a.logits)
		default:
			b.Add(a.x, a.x, a.h, rows*m.Dim)
		}
		if err := b.Err(); err != nil {
			return nil, fmt.Errorf("layer %d: %w", li, err)
		}
	}
	return b, nil
}

// Capacity returns the most positions the state holds.
func (s *GPUState) Capacity() int { return s.ctxLen }

// Reset empties the cache for a new sequence.
func (s *GPUState) Reset() { s.Pos = 0 }

// Close frees the state's device memory.
func (s *GPUState) Close() error {
	errs := []error{s.g.forget(s)}
	for i, g := range s.graphs {
		if g != nil {
			errs = append(errs, g.Close())
			s.graphs[i] = nil
		}
	}
	if s.acts != nil {
		errs = append(errs, s.acts.free())
	}
	for _, b := range append(s.cache.k, s.cache.v...) {
		if b != nil {
			errs = append(errs, b.Free())
		}
	}
	if s.cache.at != nil {
		errs = append(errs, s.cache.at.Free())
	}
	s.acts, s.cache, s.steps = nil, gpuCache{}, [2]*cuda.Batch{}
	return errors.Join(errs...)
}

// Prefill runs a prompt through the model one position at a time (the
// device kernels' matrix products take one activation vector per launch
// here) and leaves the logits after its last position in Logits. Inputs
// are checked before anything runs, as State.Prefill checks them.
func (s *GPUState) Prefill(ctx context.Context, inputs []Input) error {
	m := s.g.m
	if len(inputs) == 0 {
		return fmt.Errorf("decoder: prefill of no positions")
	}
	if s.Pos+len(inputs) > s.ctxLen {
		return fmt.Errorf("decoder: context full: %d positions cached, %d more do not fit in %d", s.Pos, len(inputs), s.ctxLen)
	}
	for i, in := range inputs {
		if err := checkInput(m, in); err != nil {
			return fmt.Errorf("decoder: input %d: %w", i, err)
		}
	}
	for i, in := range inputs {
		if err := s.step(ctx, in, i == len(inputs)-1); err != nil {
			return err
		}
	}
	return nil
}

// DecodeToken appends token to the sequence and, if logits is true, leaves
// the next-token logits in Logits.
func (s *GPUState) DecodeToken(ctx context.Context, token int, logits bool) error {
	return s.one(ctx, Input{Token: token}, logits)
}

// DecodeEmbedding appends a position given by its embedding (an image
// token) and, if logits is true, leaves the next-token logits in Logits.
func (s *GPUState) DecodeEmbedding(ctx context.Context, e []float32, logits bool) error {
	return s.one(ctx, Input{Embedding: e}, logits)
}

func (s *GPUState) one(ctx context.Context, in Input, logits bool) error {
	if err := checkInput(s.g.m, in); err != nil {
		return fmt.Errorf("decoder: %w", err)
	}
	if s.Pos >= s.ctxLen {
		return fmt.Errorf("decoder: context full: %d positions cached, capacity %d", s.Pos, s.ctxLen)
	}
	return s.step(ctx, in, logits)
}

// checkInput validates one position's input against the model.
func checkInput(m *Model, in Input) error {
	if in.Embedding != nil {
		if len(in.Embedding) != m.Dim {
			return fmt.Errorf("embedding of %d values, model dimension is %d", len(in.Embedding), m.Dim)
		}
		return nil
	}
	if in.Token < 0 || in.Token >= m.Vocab {
		return fmt.Errorf("token %d out of range [0, %d)", in.Token, m.Vocab)
	}
	return nil
}

// step runs one checked position through every layer on the device, as
// State's forward pass computes it, and advances Pos: it writes the
// position's embedding and index, then runs the position's kernels as one
// CUDA graph (a token of SmolLM2-135M is over 400 small kernels, whose
// launches one by one would cost more than their work). Reading the
// logits (or a final synchronization) waits, and reports any kernel's
// failure.
func (s *GPUState) step(ctx context.Context, in Input, logits bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, pos := s.g.m, s.Pos
	e := in.Embedding
	if e == nil {
		if err := m.Embed.Row(in.Token, s.host); err != nil {
			return err
		}
		e = s.host
	}
	if err := s.acts.x.WriteFloat32(e); err != nil {
		return fmt.Errorf("decoder: GPU embedding: %w", err)
	}
	if err := s.cache.at.Set(pos); err != nil {
		return fmt.Errorf("decoder: GPU position %d: %w", pos, err)
	}
	if err := s.run(logits); err != nil {
		return fmt.Errorf("decoder: GPU position %d: %w", pos, err)
	}
	if logits {
		if err := s.acts.logits.ReadFloat32(s.Logits); err != nil {
			return fmt.Errorf("decoder: GPU logits at position %d: %w", pos, err)
		}
	} else if err := s.g.d.Synchronize(); err != nil {
		return fmt.Errorf("decoder: GPU position %d: %w", pos, err)
	}
	s.Pos++
	return nil
}

// run launches a position's kernels: as the state's graph for positions
// with or without logits, or kernel by kernel when direct is set.
func (s *GPUState) run(logits bool) error {
	i := 0
	if logits {
		i = 1
	}
	if s.direct {
		return s.steps[i].Run()
	}
	if s.graphs[i] == nil {
		s.graphs[i] = s.g.d.NewGraph()
	}
	return s.graphs[i].Run(s.steps[i])
}
