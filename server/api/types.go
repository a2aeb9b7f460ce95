package api

import (
	"fmt"
	"image"
	"slices"
	"time"
)

// Task is what a request asks of the model.
type Task string

// The tasks the server knows. Caption, OCR and VQA come from the native
// endpoint with one image; chat comes from the OpenAI-compatible endpoint.
const (
	TaskCaption Task = "caption"
	TaskOCR     Task = "ocr"
	TaskVQA     Task = "vqa"
	TaskChat    Task = "chat"
)

// ParseTask returns the task named s, or an invalid_task error.
func ParseTask(s string) (Task, error) {
	switch t := Task(s); t {
	case TaskCaption, TaskOCR, TaskVQA, TaskChat:
		return t, nil
	}
	return "", BadRequest("invalid_task", fmt.Sprintf("unknown task %q (want caption, ocr, vqa or chat)", s))
}

// ModelInfo describes a model the engine serves.
type ModelInfo struct {
	// ID is the name clients put in the "model" field.
	ID string
	// Revision identifies the weights (a digest or version); it is part of
	// the cache key, so new weights never answer from old cache entries.
	Revision string
	// Tasks lists the tasks the model accepts.
	Tasks []Task
	// Created is when the model was built, shown by GET /v1/models.
	Created time.Time
	// OwnedBy is shown by GET /v1/models.
	OwnedBy string
}

// Supports reports whether the model accepts task t.
func (m ModelInfo) Supports(t Task) bool { return slices.Contains(m.Tasks, t) }

// Sampling chooses how tokens are decoded.
type Sampling struct {
	// MaxTokens bounds the generated tokens (> 0).
	MaxTokens int
	// Temperature 0 is greedy decoding: deterministic and cacheable.
	Temperature float32
	// TopP keeps the smallest set of tokens whose probability reaches it
	// (0 or 1: all).
	TopP float32
	// TopK keeps the K most likely tokens (0: all).
	TopK int
	// Seed makes sampling reproducible.
	Seed uint64
	// Stop ends generation before the first occurrence of any of them.
	Stop []string
}

// Greedy reports whether decoding is deterministic (argmax).
func (s Sampling) Greedy() bool { return s.Temperature == 0 }

// PartKind says what a message part holds.
type PartKind int

// The kinds of message parts.
const (
	PartText  PartKind = iota // Text holds the text
	PartImage                 // Image indexes GenerateRequest.Images
)

// Part is one piece of a chat message, in order.
type Part struct {
	Kind  PartKind
	Text  string
	Image int
}

// Message is one turn of a chat.
type Message struct {
	Role  string // system, user or assistant
	Parts []Part
}

// Image is an image input: validated and measured when the request is read,
// decoded only once the request holds an engine slot.
type Image struct {
	// Format is "jpeg", "png" or "webp".
	Format string
	// Width and Height come from the image header.
	Width, Height int
	// Data is the encoded image as the client sent it (the cache key uses it).
	Data []byte
	// Pixels is the decoded image; the server sets it before calling the
	// engine, and the engine reads it.
	Pixels image.Image
}

// GenerateRequest is one generation as the engine receives it.
type GenerateRequest struct {
	Model string
	Task  Task
	// Prompt is the question for VQA, an optional instruction for caption and
	// OCR, and empty for chat.
	Prompt string
	// Images are the request's images: the one image of caption, OCR and
	// VQA, or the images chat message parts point at.
	Images []*Image
	// Messages is the conversation for chat; nil for the other tasks.
	Messages []Message
	Sampling Sampling
}

// Timings break down where an engine call spent its time.
type Timings struct {
	ImageEncode time.Duration // vision encoder
	Prefill     time.Duration // prompt evaluation
	Decode      time.Duration // token generation
}

// GenerateResult is a finished generation.
type GenerateResult struct {
	Text             string
	PromptTokens     int
	CompletionTokens int
	// FinishReason is "stop" or "length", in OpenAI's terms.
	FinishReason string
	Timings      Timings
}

// Completion is a GenerateResult as the server answers it: which model
// produced it, whether it came from the cache, and the time spent queued
// and in total.
type Completion struct {
	Model     string
	Result    GenerateResult
	Cached    bool
	QueueWait time.Duration
	Total     time.Duration
}
