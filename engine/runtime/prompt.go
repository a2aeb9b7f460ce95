package runtime

import (
	"context"
	"fmt"
	"image"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/decoder"
)

// Default instructions of the image tasks, as SmolVLM was trained to follow.
const (
	captionPrompt = "Describe this image."
	ocrPrompt     = "Read all the text in this image."
)

// segment is a run of prompt positions: token ids, or image embeddings.
type segment struct {
	ids  []int32
	embd [][]float32
}

// prompt is the whole model input of a request.
type prompt []segment

func (p prompt) positions() int {
	n := 0
	for _, s := range p {
		n += len(s.ids) + len(s.embd)
	}
	return n
}

// feed runs the prompt through the decoder in batched passes, leaving the
// logits of the last position in s.
func (p prompt) feed(ctx context.Context, s sequence) error {
	inputs := make([]decoder.Input, 0, p.positions())
	for _, seg := range p {
		for _, id := range seg.ids {
			inputs = append(inputs, decoder.Input{Token: int(id)})
		}
		for _, e := range seg.embd {
			inputs = append(inputs, decoder.Input{Embedding: e})
		}
	}
	return s.prefill(ctx, inputs)
}

// messages turns a request into the chat it stands for.
func (req Request) messages() ([]Message, error) {
	text := strings.TrimSpace(req.Prompt)
	switch req.Task {
	case Chat:
		if len(req.Messages) == 0 {
			return nil, fmt.Errorf("%w: a chat needs at least one message", ErrBadRequest)
		}
		return req.Messages, nil
	case Caption, OCR:
		if text == "" {
			text = captionPrompt
			if req.Task == OCR {
				text = ocrPrompt
			}
		}
	case VQA:
		if text == "" {
			return nil, fmt.Errorf("%w: the vqa task needs a question", ErrBadRequest)
		}
	default:
		return nil, fmt.Errorf("%w: unknown task %q", ErrBadRequest, req.Task)
	}
	if req.Image == nil {
		return nil, fmt.Errorf("%w: the %s task needs an image", ErrBadRequest, req.Task)
	}
	return []Message{{Role: "user", Text: text, Images: []image.Image{req.Image}}}, nil
}

// buildPrompt lays the request out in SmolVLM's chat format:
//
//	<|im_start|>User:<image…>text<end_of_utterance>\nAssistant:
//
// (<|im_start|> only where the vocabulary has it; "User: text" with a space
// when a turn has no image). Template tokens are parsed as special tokens;
// the request's own text never is, so a client cannot inject them.
func (r *Runtime) buildPrompt(ctx context.Context, req Request) (prompt, error) {
	msgs, err := req.messages()
	if err != nil {
		return nil, err
	}
	var p prompt
	special := func(s string) error {
		ids, err := r.tok.Encode(s, false, true)
		if err != nil {
			return fmt.Errorf("runtime: template %q: %w", s, err)
		}
		p = append(p, segment{ids: ids})
		return nil
	}
	if _, ok := r.tok.Lookup("<|im_start|>"); ok {
		if err := special("<|im_start|>"); err != nil {
			return nil, err
		}
	}
	for _, m := range msgs {
		role, err := roleName(m.Role)
		if err != nil {
			return nil, err
		}
		sep := ": "
		if len(m.Images) > 0 {
			sep = ":"
		}
		if err := special(role + sep); err != nil {
			return nil, err
		}
		for _, img := range m.Images {
			if r.images == nil {
				return nil, fmt.Errorf("%w: this model takes no images (no vision projector loaded)", ErrBadRequest)
			}
			segs, err := r.images.segments(ctx, r.pool, img)
			if err != nil {
				return nil, err
			}
			p = append(p, segs...)
		}
		ids, err := r.tok.Encode(m.Text, false, false)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		p = append(p, segment{ids: ids})
		if err := special("<end_of_utterance>\n"); err != nil {
			return nil, err
		}
	}
	if err := special("Assistant:"); err != nil {
		return nil, err
	}
	return p, nil
}

func roleName(role string) (string, error) {
	switch role {
	case "user":
		return "User", nil
	case "assistant":
		return "Assistant", nil
	case "system":
		return "System", nil
	}
	return "", fmt.Errorf("%w: unknown role %q", ErrBadRequest, role)
}
