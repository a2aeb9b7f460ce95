package servecmd

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/generate"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/runtime"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
)

// engine adapts a runtime.Runtime to the server's Engine interface.
type engine struct {
	rt    *runtime.Runtime
	info  api.ModelInfo
	ready atomic.Bool
}

func newEngine(rt *runtime.Runtime, name string, revision []byte) *engine {
	tasks := []api.Task{api.TaskChat}
	if rt.Vision() {
		tasks = append(tasks, api.TaskCaption, api.TaskOCR, api.TaskVQA)
	}
	sum := sha256.Sum256(revision)
	return &engine{rt: rt, info: api.ModelInfo{
		ID: name, Revision: fmt.Sprintf("sha256:%x", sum[:8]), Tasks: tasks,
		Created: time.Now().UTC().Truncate(time.Second), OwnedBy: "mobile-mm-llm",
	}}
}

// warmUp runs one short generation so the first request does not pay for
// page faults on the weights, then reports ready.
func (e *engine) warmUp(ctx context.Context) error {
	req := runtime.Request{Task: runtime.Chat, Messages: []runtime.Message{{Role: "user", Text: "Hi"}},
		Options: generate.Options{MaxTokens: 1}}
	if _, err := e.rt.Generate(ctx, req, nil); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	e.ready.Store(true)
	return nil
}

func (e *engine) Models() []api.ModelInfo { return []api.ModelInfo{e.info} }
func (e *engine) Ready() bool             { return e.ready.Load() }

func (e *engine) Generate(ctx context.Context, req api.GenerateRequest, onToken func(string) error) (api.GenerateResult, error) {
	rreq, err := toRuntime(req)
	if err != nil {
		return api.GenerateResult{}, err
	}
	res, err := e.rt.Generate(ctx, rreq, onToken)
	if errors.Is(err, runtime.ErrBadRequest) {
		return api.GenerateResult{}, api.BadRequest("invalid_request", strings.TrimPrefix(err.Error(), "bad request: "))
	}
	if err != nil {
		return api.GenerateResult{}, err
	}
	return api.GenerateResult{
		Text: res.Text, PromptTokens: res.PromptTokens, CompletionTokens: res.CompletionTokens,
		FinishReason: string(res.FinishReason),
		Timings:      api.Timings{ImageEncode: res.ImageEncode, Prefill: res.Prefill, Decode: res.Decode},
	}, nil
}

// toRuntime translates the server's request. In chat messages, a turn's
// images are shown to the model before its text, as SmolVLM's template
// places them.
func toRuntime(req api.GenerateRequest) (runtime.Request, error) {
	s := req.Sampling
	out := runtime.Request{Task: runtime.Task(req.Task), Prompt: req.Prompt,
		Options: generate.Options{MaxTokens: s.MaxTokens, Stop: s.Stop,
			Sampler: generate.SamplerOptions{Temperature: s.Temperature, TopK: s.TopK, TopP: s.TopP, Seed: s.Seed}}}
	pixels := func(i int) (image.Image, error) {
		if i < 0 || i >= len(req.Images) || req.Images[i].Pixels == nil {
			return nil, api.BadRequest("invalid_image", fmt.Sprintf("image %d is missing", i))
		}
		return req.Images[i].Pixels, nil
	}
	if req.Task != api.TaskChat {
		if len(req.Images) > 0 {
			img, err := pixels(0)
			if err != nil {
				return out, err
			}
			out.Image = img
		}
		return out, nil
	}
	for _, m := range req.Messages {
		msg := runtime.Message{Role: m.Role}
		var text []string
		for _, p := range m.Parts {
			if p.Kind == api.PartImage {
				img, err := pixels(p.Image)
				if err != nil {
					return out, err
				}
				msg.Images = append(msg.Images, img)
				continue
			}
			text = append(text, p.Text)
		}
		msg.Text = strings.Join(text, "\n")
		out.Messages = append(out.Messages, msg)
	}
	return out, nil
}
