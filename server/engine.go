package server

import (
	"context"

	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
)

// Engine is what the server needs of the model runtime. Implementations
// must be safe for concurrent use; the server bounds the concurrency (see
// Options.Sched).
type Engine interface {
	// Models lists the models served; the first is the default for requests
	// that name none.
	Models() []api.ModelInfo
	// Ready reports whether the models are loaded and warmed up; /ready
	// answers 503 until it does.
	Ready() bool
	// Generate runs one generation. The request's images are decoded
	// (Image.Pixels is set). onToken, if not nil, receives the generated
	// text piece by piece, sequentially and never after Generate returns;
	// the pieces add up to the result's Text. Generate must stop and return
	// promptly, with an error, when ctx ends or onToken fails. An error that
	// is an *api.Error is answered as such (say, a 400 for a prompt over the
	// context window); any other is a 500.
	Generate(ctx context.Context, req api.GenerateRequest, onToken func(piece string) error) (api.GenerateResult, error)
}
