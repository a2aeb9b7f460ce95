package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
)

// Limits bound what one request may ask for.
type Limits struct {
	// MaxImagePixels bounds width*height of each image.
	MaxImagePixels int
	// MaxImageBytes bounds an image fetched from a URL.
	MaxImageBytes int64
	// MaxImages bounds the images of one chat request.
	MaxImages int
	// DefaultMaxTokens is the token budget when a request names none.
	DefaultMaxTokens int
	// MaxTokens is the largest budget a request may name.
	MaxTokens int
	// MaxStop bounds the number of stop strings.
	MaxStop int
}

// DefaultLimits returns the limits a zero Limits field takes.
func DefaultLimits() Limits {
	return Limits{
		MaxImagePixels:   4096 * 4096,
		MaxImageBytes:    8 << 20,
		MaxImages:        4,
		DefaultMaxTokens: 256,
		MaxTokens:        2048,
		MaxStop:          4,
	}
}

// WithDefaults fills l's zero (or negative) fields from DefaultLimits.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	d.MaxImagePixels = positiveOr(l.MaxImagePixels, d.MaxImagePixels)
	d.MaxImageBytes = positiveOr(l.MaxImageBytes, d.MaxImageBytes)
	d.MaxImages = positiveOr(l.MaxImages, d.MaxImages)
	d.MaxTokens = positiveOr(l.MaxTokens, d.MaxTokens)
	d.DefaultMaxTokens = min(positiveOr(l.DefaultMaxTokens, d.DefaultMaxTokens), d.MaxTokens)
	d.MaxStop = positiveOr(l.MaxStop, d.MaxStop)
	return d
}

func positiveOr[T int | int64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Usage counts a generation's tokens, as both endpoints report them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Usage returns r's token counts.
func (r GenerateResult) Usage() Usage {
	return Usage{PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens,
		TotalTokens: r.PromptTokens + r.CompletionTokens}
}

// SamplingParams are the optional decoding fields both endpoints accept,
// as sent; Resolve checks them and fills defaults.
type SamplingParams struct {
	MaxTokens   *int       `json:"max_tokens,omitempty"`
	Temperature *float32   `json:"temperature,omitempty"`
	TopP        *float32   `json:"top_p,omitempty"`
	TopK        *int       `json:"top_k,omitempty"`
	Seed        *int64     `json:"seed,omitempty"`
	Stop        StringList `json:"stop,omitempty"`
}

// Resolve returns the Sampling p asks for within l, or a 400 *Error. An
// absent temperature means greedy decoding (deterministic and cacheable);
// sampling without a seed gets a random one.
func (p SamplingParams) Resolve(l Limits) (Sampling, error) {
	s := Sampling{MaxTokens: l.DefaultMaxTokens, Stop: p.Stop}
	if p.MaxTokens != nil {
		if *p.MaxTokens <= 0 || *p.MaxTokens > l.MaxTokens {
			return s, BadRequest("invalid_max_tokens", fmt.Sprintf("max_tokens %d is outside [1, %d]", *p.MaxTokens, l.MaxTokens))
		}
		s.MaxTokens = *p.MaxTokens
	}
	if p.Temperature != nil {
		if *p.Temperature < 0 || *p.Temperature > 2 {
			return s, BadRequest("invalid_temperature", fmt.Sprintf("temperature %v is outside [0, 2]", *p.Temperature))
		}
		s.Temperature = *p.Temperature
	}
	if p.TopP != nil {
		if *p.TopP < 0 || *p.TopP > 1 {
			return s, BadRequest("invalid_top_p", fmt.Sprintf("top_p %v is outside [0, 1]", *p.TopP))
		}
		s.TopP = *p.TopP
	}
	if p.TopK != nil {
		if *p.TopK < 0 {
			return s, BadRequest("invalid_top_k", fmt.Sprintf("top_k %d is negative", *p.TopK))
		}
		s.TopK = *p.TopK
	}
	switch {
	case p.Seed != nil:
		s.Seed = uint64(*p.Seed)
	case !s.Greedy():
		s.Seed = rand.Uint64()
	}
	if len(p.Stop) > l.MaxStop {
		return s, BadRequest("invalid_stop", fmt.Sprintf("%d stop strings, over the limit of %d", len(p.Stop), l.MaxStop))
	}
	for _, stop := range p.Stop {
		if stop == "" {
			return s, BadRequest("invalid_stop", "stop strings must not be empty")
		}
	}
	return s, nil
}

// StringList is a JSON string or list of strings (the "stop" field).
type StringList []string

// UnmarshalJSON accepts a string, a list of strings or null.
func (s *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*s = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return fmt.Errorf("stop: %w", err)
		}
		*s = StringList{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("stop must be a string or a list of strings: %w", err)
	}
	*s = list
	return nil
}

// DecodeJSON decodes one JSON value from a request body into v. It answers
// a body over the http.MaxBytesReader limit with a 413 *Error, and an empty
// body, malformed JSON, a wrong field type or trailing data with a 400.
func DecodeJSON(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	err := dec.Decode(v)
	if err == nil {
		if _, tokErr := dec.Token(); !errors.Is(tokErr, io.EOF) {
			err = tokErr
			if err == nil {
				err = errors.New("data after the JSON value")
			}
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooBig):
		return NewError(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the request body is over %d bytes", tooBig.Limit))
	case errors.Is(err, io.EOF):
		return BadRequest("invalid_json", "the request body is empty")
	}
	return BadRequest("invalid_json", fmt.Sprintf("the request body is not valid JSON: %v", err))
}
