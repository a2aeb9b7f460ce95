package decoder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/cuda"
)

// maxGPUBatch is the most sequences one pass of GPUModel.DecodeBatch
// runs: the activation vectors of one GEMM launch.
const maxGPUBatch = 8

// maxGPUPasses bounds the batched passes kept built (one per set of
// sequences decoded together); past it they are all dropped and rebuilt
// as needed.
const maxGPUPasses = 64

// gpuPass is the kernels of one position of a set of sequences, and the
// graph that replays them.
type gpuPass struct {
	batch *cuda.Batch
	graph *cuda.Graph
	ids   []int
}

func (g *GPUModel) newID() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.nextID++
	return g.nextID
}

// DecodeBatch appends tokens[i] to states[i], for every i, with each
// weight matrix multiplied once for all of them (the GEMM kernels; up to
// maxGPUBatch sequences per pass), and, if logits is true, leaves each
// state's next-token logits in its Logits. Each sequence attends over its
// own cache. The results equal a DecodeToken on each state bit for bit:
// the GEMM and GEMV kernels add a row's terms in the same order.
//
// The states must be distinct states of g, used by no other goroutine
// during the call. Inputs are checked before anything runs: a bad token, a
// full context or a repeated state return an error and leave every state
// unchanged. The kernels of each set of sequences decoded together are
// built once and replayed as a CUDA graph.
func (g *GPUModel) DecodeBatch(ctx context.Context, states []*GPUState, tokens []int, logits bool) error {
	err := checkSteps(states, tokens, g.m.Vocab, func(s *GPUState) error {
		if s == nil || s.g != g || s.acts == nil {
			return errors.New("is nil, closed or another model's")
		}
		return nil
	}, func(s *GPUState) (int, int) { return s.Pos, s.ctxLen })
	if err != nil {
		return err
	}
	if len(states) == 1 {
		return states[0].DecodeToken(ctx, tokens[0], logits)
	}
	for start := 0; start < len(states); start += maxGPUBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+maxGPUBatch, len(states))
		if err := g.decodePass(states[start:end], tokens[start:end], logits); err != nil {
			return err
		}
	}
	return nil
}

// decodePass runs one position of up to maxGPUBatch checked sequences.
func (g *GPUModel) decodePass(states []*GPUState, tokens []int, logits bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := g.m
	if g.acts == nil {
		acts, err := g.newActs(maxGPUBatch)
		if err != nil {
			return fmt.Errorf("decoder: GPU batch: %w", err)
		}
		g.acts = acts
	}
	// The sequences in the order of their ids, so that a set of sequences
	// has one pass whatever order they arrive in.
	order := make([]int, len(states))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return states[i].id - states[j].id })
	p, err := g.pass(states, order, logits)
	if err != nil {
		return fmt.Errorf("decoder: GPU batch: %w", err)
	}
	rows := len(states)
	g.host = slices.Grow(g.host[:0], rows*max(m.Dim, m.Vocab))[:rows*m.Dim]
	for r, i := range order {
		if err := m.Embed.Row(tokens[i], g.host[r*m.Dim:(r+1)*m.Dim]); err != nil {
			return err
		}
		if err := states[i].cache.at.Set(states[i].Pos); err != nil {
			return fmt.Errorf("decoder: GPU batch: %w", err)
		}
	}
	if err := g.acts.x.WriteFloat32(g.host); err != nil {
		return fmt.Errorf("decoder: GPU batch embeddings: %w", err)
	}
	if err := p.graph.Run(p.batch); err != nil {
		return fmt.Errorf("decoder: GPU batch: %w", err)
	}
	if logits {
		g.host = g.host[:rows*m.Vocab]
		if err := g.acts.logits.ReadFloat32(g.host); err != nil {
			return fmt.Errorf("decoder: GPU batch logits: %w", err)
		}
		for r, i := range order {
			copy(states[i].Logits, g.host[r*m.Vocab:(r+1)*m.Vocab])
		}
	} else if err := g.d.Synchronize(); err != nil {
		return fmt.Errorf("decoder: GPU batch: %w", err)
	}
	for _, s := range states {
		s.Pos++
	}
	return nil
}

// pass returns the built pass of the sequences states[order[0]],
// states[order[1]], ..., building it the first time.
func (g *GPUModel) pass(states []*GPUState, order []int, logits bool) (*gpuPass, error) {
	var key strings.Builder
	key.WriteString(strconv.FormatBool(logits))
	ids := make([]int, len(order))
	caches := make([]*gpuCache, len(order))
	for r, i := range order {
		ids[r], caches[r] = states[i].id, &states[i].cache
		key.WriteString("," + strconv.Itoa(ids[r]))
	}
	if p, ok := g.passes[key.String()]; ok {
		return p, nil
	}
	if len(g.passes) >= maxGPUPasses {
		if err := g.closePassesLocked(); err != nil {
			return nil, err
		}
	}
	b, err := g.buildPass(g.acts, caches, logits)
	if err != nil {
		return nil, err
	}
	if g.passes == nil {
		g.passes = map[string]*gpuPass{}
	}
	p := &gpuPass{batch: b, graph: g.d.NewGraph(), ids: ids}
	g.passes[key.String()] = p
	return p, nil
}

// forget drops the passes that include s, which is being closed.
func (g *GPUModel) forget(s *GPUState) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	var errs []error
	for k, p := range g.passes {
		if slices.Contains(p.ids, s.id) {
			errs = append(errs, p.graph.Close())
			delete(g.passes, k)
		}
	}
	return errors.Join(errs...)
}

// closePasses drops every pass and frees the batch activations.
func (g *GPUModel) closePasses() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	err := g.closePassesLocked()
	if g.acts != nil {
		err = errors.Join(err, g.acts.free())
		g.acts = nil
	}
	return err
}

func (g *GPUModel) closePassesLocked() error {
	var errs []error
	for k, p := range g.passes {
		errs = append(errs, p.graph.Close())
		delete(g.passes, k)
	}
	return errors.Join(errs...)
}
