// Package runtime serves a loaded vision-language model: it builds the
// prompt of a task (caption, OCR, visual question answering, chat) in the
// model's chat format, runs the prompt through the decoder, and generates
// the answer with engine/generate. One Runtime serves many requests at once;
// each holds one of a fixed number of sequence states.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/cuda"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/decoder"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/generate"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/tokenizer"
)

// Task is what a request asks of the model.
type Task string

// The tasks.
const (
	Caption Task = "caption"
	OCR     Task = "ocr"
	VQA     Task = "vqa"
	Chat    Task = "chat"
)

// Options configure a Runtime.
type Options struct {
	// Threads for the kernels (0: all CPUs).
	Threads int
	// Sequences is how many requests may run at once (0: 1).
	Sequences int
	// Context is the longest prompt plus answer, in tokens (0: the model's,
	// capped at 4096).
	Context int
	// Device runs the decoder on a CUDA device (cuda.Select) instead of the
	// CPU kernels; the vision encoder stays on the CPU. A model the device
	// cannot run (weights without GPU kernels, not enough memory) runs on
	// the CPU, with a log line saying why.
	Device *cuda.Device
	// Logf receives that log line (nil: log.Printf).
	Logf func(format string, args ...any)
	// Unbatched decodes each request on its own. By default, with several
	// Sequences on the CPU, the decode steps of the requests generating at
	// the same time run as one batch (decoder.DecodeBatch).
	Unbatched bool
}

// Message is one chat turn.
type Message struct {
	Role   string // system, user or assistant
	Text   string
	Images []image.Image // shown before the text
}

// Request is one generation.
type Request struct {
	Task     Task
	Prompt   string      // the question for VQA; an optional instruction for caption/OCR
	Image    image.Image // the image of caption, OCR and VQA
	Messages []Message   // the conversation, for Chat
	Options  generate.Options
}

// Result is a finished generation.
type Result struct {
	Text             string
	PromptTokens     int
	CompletionTokens int
	FinishReason     generate.FinishReason
	ImageEncode      time.Duration
	Prefill          time.Duration
	Decode           time.Duration
}

// ErrBadRequest marks errors caused by the request (an unsupported task, a
// prompt longer than the context); callers answer them as client errors.
var ErrBadRequest = errors.New("bad request")

// generations is what Generate and Close need of a batcher, whatever its
// decoder state type.
type generations interface {
	begin()
	end()
	close()
}

// Runtime is a loaded model ready to serve.
type Runtime struct {
	model  *decoder.Model
	tok    *tokenizer.Tokenizer
	images *imagePath // nil for a text-only model
	pool   *kernels.Pool
	gpu    *decoder.GPUModel // nil on the CPU
	batch  generations       // a batcher; nil: each request decodes on its own
	states chan sequence
	all    []sequence
	eou    int32 // <end_of_utterance>, or -1
}

// Open loads a text model and, when mmproj is not nil, its vision
// projector. The files must stay open while the Runtime is used.
func Open(text, mmproj *gguf.File, opt Options) (*Runtime, error) {
	m, err := decoder.Load(text)
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	cfg, err := tokenizer.ConfigFromFile(text)
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	tok, err := tokenizer.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("runtime: %s: %w", text.Name(), err)
	}
	r := &Runtime{model: m, tok: tok, eou: -1}
	if id, ok := tok.Lookup("<end_of_utterance>"); ok {
		r.eou = id
	}
	if mmproj != nil {
		if r.images, err = newImagePath(mmproj, tok, m.Dim); err != nil {
			return nil, fmt.Errorf("runtime: %w", err)
		}
	}
	ctxLen := opt.Context
	if ctxLen <= 0 {
		ctxLen = min(m.Context, 4096)
	}
	n := max(opt.Sequences, 1)
	r.pool = kernels.NewPool(opt.Threads, nil)
	r.states = make(chan sequence, n)
	if opt.Device != nil {
		if err := r.openGPU(opt.Device, ctxLen, n, !opt.Unbatched); err != nil {
			logf := opt.Logf
			if logf == nil {
				logf = log.Printf
			}
			logf("runtime: running the decoder on the CPU kernels: %s cannot run this model: %v", opt.Device.Name, err)
		}
	}
	var cpuBatch *batcher[*decoder.State]
	if r.gpu == nil && n > 1 && !opt.Unbatched {
		cpuBatch = cpuBatcher(r.pool)
		r.batch = cpuBatch
	}
	for len(r.all) < n {
		s, err := m.NewState(ctxLen)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("runtime: %w", err)
		}
		r.all = append(r.all, cpuSequence{s: s, p: r.pool, b: cpuBatch})
	}
	for _, s := range r.all {
		r.states <- s
	}
	return r, nil
}

// openGPU uploads the decoder to d with n sequences of ctxLen positions,
// whose decode steps are batched when batched is set and n > 1; on an
// error it frees what it took.
func (r *Runtime) openGPU(d *cuda.Device, ctxLen, n int, batched bool) error {
	g, err := r.model.Upload(d)
	if err != nil {
		return err
	}
	var b *batcher[*decoder.GPUState]
	if batched && n > 1 {
		b = gpuBatcher(g)
	}
	var seqs []sequence
	for range n {
		s, err := g.NewState(ctxLen)
		if err != nil {
			if b != nil {
				b.close()
			}
			for _, s := range seqs {
				err = errors.Join(err, s.close())
			}
			return errors.Join(err, g.Close())
		}
		seqs = append(seqs, gpuSequence{s: s, b: b})
	}
	r.gpu, r.all = g, seqs
	if b != nil {
		r.batch = b
	}
	return nil
}

// Close stops the kernel workers and frees the device memory the decoder
// holds. Requests must have finished.
func (r *Runtime) Close() error {
	if r.batch != nil {
		r.batch.close()
		r.batch = nil
	}
	r.pool.Close()
	var errs []error
	for _, s := range r.all {
		errs = append(errs, s.close())
	}
	r.all = nil
	if r.gpu != nil {
		errs = append(errs, r.gpu.Close())
		r.gpu = nil
	}
	return errors.Join(errs...)
}

// Device names where the decoder runs: "cpu", or "cuda" when on a GPU.
func (r *Runtime) Device() string {
	if r.gpu != nil {
		return "cuda"
	}
	return "cpu"
}

// Vision reports whether the model takes images.
func (r *Runtime) Vision() bool { return r.images != nil }

// Kernels names the kernel set in use.
func (r *Runtime) Kernels() string { return r.pool.Impl().Name }

// Generate runs one request. onText, if not nil, receives the answer as it
// is generated (see generate.Run).
func (r *Runtime) Generate(ctx context.Context, req Request, onText func(string) error) (Result, error) {
	var s sequence
	select {
	case s = <-r.states:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	defer func() { s.reset(); r.states <- s }()

	var res Result
	start := time.Now()
	prompt, err := r.buildPrompt(ctx, req)
	if err != nil {
		return res, err
	}
	res.ImageEncode = time.Since(start)
	if n := prompt.positions(); n+1 > s.capacity() {
		return res, fmt.Errorf("%w: the prompt takes %d positions, the context holds %d", ErrBadRequest, n, s.capacity())
	}
	start = time.Now()
	if err := prompt.feed(ctx, s); err != nil {
		return res, err
	}
	res.Prefill = time.Since(start)
	res.PromptTokens = s.pos()

	opt := req.Options
	opt.MaxTokens = min(opt.MaxTokens, s.capacity()-s.pos())
	start = time.Now()
	if r.batch != nil {
		r.batch.begin()
		defer r.batch.end()
	}
	out, err := generate.Run(ctx, s, vocab{r.tok}, s.logits(), opt, onText)
	res.Decode = time.Since(start)
	res.Text, res.CompletionTokens, res.FinishReason = out.Text, len(out.Tokens), out.FinishReason
	return res, err
}

// vocab adapts the tokenizer to generate.Vocab.
type vocab struct{ t *tokenizer.Tokenizer }

func (v vocab) Piece(id int) []byte { return v.t.Piece(int32(id)) }
func (v vocab) IsEOG(id int) bool   { return v.t.IsEOG(int32(id)) }
