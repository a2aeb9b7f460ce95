package openai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
)

// sse writes one completion as server-sent events. Nothing is written until
// the first piece of text, so a request refused before generation (queue
// full, bad model) still gets its plain status and JSON error.
type sse struct {
	c       *gin.Context
	id      string
	model   string
	created int64
	started bool
	texted  bool // some text went out
}

// start sends the headers and the first chunk, which carries the role.
func (s *sse) start() error {
	if s.started {
		return nil
	}
	s.started = true
	h := s.c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	s.c.Status(http.StatusOK)
	return s.chunk(Delta{Role: "assistant"}, nil, nil)
}

// chunk sends one chat.completion.chunk event.
func (s *sse) chunk(d Delta, finish *string, u *api.Usage) error {
	choices := []ChunkChoice{{Delta: d, FinishReason: finish}}
	if u != nil {
		choices = []ChunkChoice{} // the usage chunk has no choices
	}
	return s.event(ChatCompletionChunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created,
		Model: s.model, Choices: choices, Usage: u})
}

// event sends v as one "data:" event and flushes it to the client.
func (s *sse) event(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("openai: encoding event: %w", err)
	}
	if _, err := fmt.Fprintf(s.c.Writer, "data: %s\n\n", b); err != nil {
		return fmt.Errorf("openai: writing event: %w", err)
	}
	s.c.Writer.Flush()
	return nil
}

// done ends the stream as OpenAI's clients expect.
func (s *sse) done() {
	_, _ = fmt.Fprint(s.c.Writer, "data: [DONE]\n\n")
	s.c.Writer.Flush()
}

// stream answers a "stream": true request.
func (h *Handler) stream(c *gin.Context, id string, gen api.GenerateRequest, includeUsage bool) {
	s := &sse{c: c, id: id, model: gen.Model, created: time.Now().Unix()}
	onToken := func(piece string) error {
		if err := s.start(); err != nil {
			return err
		}
		if piece == "" {
			return nil
		}
		s.texted = true
		return s.chunk(Delta{Content: piece}, nil, nil)
	}
	comp, err := h.core.Generate(c, gen, onToken)
	if err != nil {
		if !s.started {
			h.core.Fail(c, err)
			return
		}
		// The status is out: report the error in the stream, then end it.
		// (The core has counted and logged it.)
		_ = s.event(api.AsError(err).Body())
		s.done()
		return
	}
	if err := s.start(); err != nil {
		return
	}
	if !s.texted && comp.Result.Text != "" {
		// A cache hit, or an engine that does not stream: all at once.
		if err := s.chunk(Delta{Content: comp.Result.Text}, nil, nil); err != nil {
			return
		}
	}
	finish := comp.Result.FinishReason
	if err := s.chunk(Delta{}, &finish, nil); err != nil {
		return
	}
	if includeUsage {
		u := comp.Result.Usage()
		if err := s.chunk(Delta{}, nil, &u); err != nil {
			return
		}
	}
	s.done()
}
