package openai

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
)

// ChatCompletionRequest is the body of POST /v1/chat/completions: the
// fields of OpenAI's API this server honours, plus top_k as llama.cpp's and
// vLLM's servers accept it. Unknown fields are ignored.
type ChatCompletionRequest struct {
	Model         string         `json:"model"`
	Messages      []ChatMessage  `json:"messages"`
	Stream        bool           `json:"stream"`
	StreamOptions *StreamOptions `json:"stream_options,omitempty"`
	// MaxCompletionTokens is OpenAI's newer name for max_tokens; it wins
	// when both are given.
	MaxCompletionTokens *int `json:"max_completion_tokens,omitempty"`
	N                   *int `json:"n,omitempty"`
	api.SamplingParams
}

// StreamOptions are the options of a streamed answer.
type StreamOptions struct {
	// IncludeUsage adds a last chunk with the token counts.
	IncludeUsage bool `json:"include_usage"`
}

// ChatMessage is one message of the conversation.
type ChatMessage struct {
	Role    string  `json:"role"`
	Content Content `json:"content"`
}

// Content is a message's content: a plain string or a list of parts; both
// decode into parts.
type Content []ContentPart

// UnmarshalJSON accepts a string, a list of parts or null.
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*c = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("message content: %w", err)
		}
		*c = Content{{Type: "text", Text: s}}
		return nil
	}
	var parts []ContentPart
	if err := json.Unmarshal(b, &parts); err != nil {
		return fmt.Errorf("message content must be a string or a list of parts: %w", err)
	}
	*c = parts
	return nil
}

// ContentPart is a text or image_url part.
type ContentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
}

// ImageURL points at an image: a data URI, or an https URL the server may
// fetch.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// ChatCompletion is a whole answer.
type ChatCompletion struct {
	ID      string    `json:"id"`
	Object  string    `json:"object"` // "chat.completion"
	Created int64     `json:"created"`
	Model   string    `json:"model"`
	Choices []Choice  `json:"choices"`
	Usage   api.Usage `json:"usage"`
}

// Choice is one answer of a ChatCompletion (this server makes one).
type Choice struct {
	Index        int            `json:"index"`
	Message      MessageContent `json:"message"`
	FinishReason string         `json:"finish_reason"`
}

// MessageContent is the assistant's message in a ChatCompletion.
type MessageContent struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatCompletionChunk is one server-sent event of a streamed answer.
type ChatCompletionChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"` // "chat.completion.chunk"
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	Usage   *api.Usage    `json:"usage,omitempty"`
}

// ChunkChoice is the change a chunk brings.
type ChunkChoice struct {
	Index        int     `json:"index"`
	Delta        Delta   `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

// Delta is new text (and, first, the role).
type Delta struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content,omitempty"`
}

// ModelList is the answer of GET /v1/models.
type ModelList struct {
	Object string  `json:"object"` // "list"
	Data   []Model `json:"data"`
}

// Model describes one model.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "model"
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}
