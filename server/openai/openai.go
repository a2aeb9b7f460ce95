// Package openai is the OpenAI-compatible face of the server: POST
// /v1/chat/completions (whole answers, or server-sent events with
// "stream": true) and GET /v1/models. It only translates: requests become
// the native api.GenerateRequest and go through the same Core as the
// native endpoint (model check, cache, admission, engine, metrics).
//
// Images arrive as image_url parts: data URIs always; https URLs only for
// hosts on a configured allowlist, and never to a loopback, private,
// link-local or otherwise non-public address, checked on the resolved
// address of every connection, redirects included.
package openai

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
)

// Core is what this layer needs of the native server.
type Core interface {
	// Models lists the models served.
	Models() []api.ModelInfo
	// Model returns the model a request's "model" field names (the default
	// model when empty), or a 404 *api.Error.
	Model(name string) (api.ModelInfo, error)
	// Generate runs req through the server's pipeline. onToken, if not nil,
	// receives the text as it is generated (sequentially, never after
	// Generate returns); an error from it stops generation. Errors are
	// *api.Error values or become 500s.
	Generate(c *gin.Context, req api.GenerateRequest, onToken func(piece string) error) (api.Completion, error)
	// Fail answers c with err.
	Fail(c *gin.Context, err error)
}

// Options configure the layer.
type Options struct {
	// Limits bound the requests (zero fields take api.DefaultLimits()).
	Limits api.Limits
	// ImageDomains are the hosts https image URLs may point at (a domain
	// also allows its subdomains); none disables image URLs.
	ImageDomains []string
	// FetchTimeout bounds one image download (default 10 s).
	FetchTimeout time.Duration
}

// Handler serves the OpenAI-compatible endpoints.
type Handler struct {
	core   Core
	limits api.Limits
	fetch  *fetcher
}

// New returns a Handler over core.
func New(core Core, opts Options) (*Handler, error) {
	if core == nil {
		return nil, fmt.Errorf("openai: nil core")
	}
	if opts.FetchTimeout < 0 {
		return nil, fmt.Errorf("openai: fetch timeout %v is negative", opts.FetchTimeout)
	}
	if opts.FetchTimeout == 0 {
		opts.FetchTimeout = 10 * time.Second
	}
	limits := opts.Limits.WithDefaults()
	f, err := newFetcher(opts.ImageDomains, opts.FetchTimeout, limits.MaxImageBytes)
	if err != nil {
		return nil, err
	}
	return &Handler{core: core, limits: limits, fetch: f}, nil
}

// ListModels serves GET /v1/models.
func (h *Handler) ListModels(c *gin.Context) {
	list := ModelList{Object: "list", Data: []Model{}}
	for _, m := range h.core.Models() {
		owner := m.OwnedBy
		if owner == "" {
			owner = "mobile-mm-llm"
		}
		list.Data = append(list.Data, Model{ID: m.ID, Object: "model", Created: m.Created.Unix(), OwnedBy: owner})
	}
	c.JSON(http.StatusOK, list)
}

// ChatCompletions serves POST /v1/chat/completions.
func (h *Handler) ChatCompletions(c *gin.Context) {
	var req ChatCompletionRequest
	if err := api.DecodeJSON(c.Request.Body, &req); err != nil {
		h.core.Fail(c, err)
		return
	}
	gen, err := h.translate(c, req)
	if err != nil {
		h.core.Fail(c, err)
		return
	}
	id := "chatcmpl-" + completionID(c)
	if req.Stream {
		h.stream(c, id, gen, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	comp, err := h.core.Generate(c, gen, nil)
	if err != nil {
		h.core.Fail(c, err)
		return
	}
	res := comp.Result
	c.JSON(http.StatusOK, ChatCompletion{
		ID: id, Object: "chat.completion", Created: time.Now().Unix(), Model: comp.Model,
		Choices: []Choice{{Message: MessageContent{Role: "assistant", Content: res.Text}, FinishReason: res.FinishReason}},
		Usage:   res.Usage(),
	})
}

// completionID reuses the request id the server echoes, so a completion
// can be found in the logs; it falls back to a random id.
func completionID(c *gin.Context) string {
	if id := c.Writer.Header().Get("X-Request-ID"); id != "" {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// roles maps OpenAI's roles onto the model's chat template roles.
var roles = map[string]string{"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}

// translate turns an OpenAI request into the native one, fetching and
// checking its images.
func (h *Handler) translate(c *gin.Context, req ChatCompletionRequest) (api.GenerateRequest, error) {
	gen := api.GenerateRequest{Model: req.Model, Task: api.TaskChat}
	model, err := h.core.Model(req.Model)
	if err != nil {
		return gen, err
	}
	gen.Model = model.ID
	if req.N != nil && *req.N != 1 {
		return gen, api.BadRequest("invalid_n", "only n=1 is supported")
	}
	params := req.SamplingParams
	if req.MaxCompletionTokens != nil {
		params.MaxTokens = req.MaxCompletionTokens
	}
	if gen.Sampling, err = params.Resolve(h.limits); err != nil {
		return gen, err
	}
	if len(req.Messages) == 0 {
		return gen, api.BadRequest("invalid_messages", "messages must not be empty")
	}
	for i, m := range req.Messages {
		role, ok := roles[m.Role]
		if !ok {
			return gen, api.BadRequest("invalid_messages", fmt.Sprintf("messages[%d]: unsupported role %q", i, m.Role))
		}
		msg := api.Message{Role: role}
		for j, p := range m.Content {
			part, err := h.part(c, &gen, role, p)
			if err != nil {
				return gen, api.Within(err, fmt.Sprintf("messages[%d].content[%d]", i, j))
			}
			msg.Parts = append(msg.Parts, part)
		}
		gen.Messages = append(gen.Messages, msg)
	}
	return gen, nil
}

// part translates one content part, adding its image to gen.
func (h *Handler) part(c *gin.Context, gen *api.GenerateRequest, role string, p ContentPart) (api.Part, error) {
	switch p.Type {
	case "text":
		return api.Part{Kind: api.PartText, Text: p.Text}, nil
	case "image_url":
	default:
		return api.Part{}, api.BadRequest("invalid_content", fmt.Sprintf("unsupported content part type %q", p.Type))
	}
	if role != "user" {
		return api.Part{}, api.BadRequest("invalid_content", "only user messages may carry images")
	}
	if p.ImageURL == nil || p.ImageURL.URL == "" {
		return api.Part{}, api.BadRequest("invalid_image_url", "image_url.url is missing")
	}
	if len(gen.Images) >= h.limits.MaxImages {
		return api.Part{}, api.BadRequest("too_many_images", fmt.Sprintf("more than %d images", h.limits.MaxImages))
	}
	var data []byte
	var err error
	if u := p.ImageURL.URL; len(u) >= 5 && strings.EqualFold(u[:5], "data:") {
		data, err = api.DecodeImageString(u)
	} else {
		data, err = h.fetch.fetch(c.Request.Context(), u)
	}
	if err != nil {
		return api.Part{}, err
	}
	im, err := api.ParseImage(data, h.limits.MaxImagePixels)
	if err != nil {
		return api.Part{}, err
	}
	gen.Images = append(gen.Images, im)
	return api.Part{Kind: api.PartImage, Image: len(gen.Images) - 1}, nil
}
