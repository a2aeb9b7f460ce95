package generate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Model is what the loop needs of a language model: feeding one token and
// reading the logits that follow it.
type Model interface {
	// Next feeds token and returns the logits for the token after it.
	Next(ctx context.Context, token int) ([]float32, error)
}

// Vocab is what the loop needs of a tokenizer.
type Vocab interface {
	// Piece returns the bytes token id stands for.
	Piece(id int) []byte
	// IsEOG reports whether id ends generation (end of sequence/turn).
	IsEOG(id int) bool
}

// Options bound a generation.
type Options struct {
	Sampler   SamplerOptions
	MaxTokens int      // at most this many tokens are generated (> 0)
	Stop      []string // generation ends before the first occurrence of any
}

// FinishReason says why generation ended, in OpenAI's terms.
type FinishReason string

// The reasons generation ends.
const (
	FinishStop   FinishReason = "stop"   // end-of-generation token or stop string
	FinishLength FinishReason = "length" // MaxTokens reached
)

// Result is a finished generation.
type Result struct {
	Text         string
	Tokens       []int
	FinishReason FinishReason
}

// Run samples up to opt.MaxTokens tokens, starting from the logits that
// follow the prompt. onText, if not nil, receives the text as it becomes
// final: never a partial UTF-8 character, never text a stop string may
// still remove. An error from onText or the context stops generation.
func Run(ctx context.Context, m Model, v Vocab, logits []float32, opt Options, onText func(string) error) (Result, error) {
	if opt.MaxTokens <= 0 {
		return Result{}, fmt.Errorf("generate: max tokens %d must be positive", opt.MaxTokens)
	}
	for _, s := range opt.Stop {
		if s == "" {
			return Result{}, errors.New("generate: empty stop string")
		}
	}
	smp, err := NewSampler(opt.Sampler)
	if err != nil {
		return Result{}, err
	}
	var (
		res     Result
		text    []byte // everything generated
		emitted int    // bytes of text already passed to onText
	)
	emit := func(upto int) error {
		if onText == nil || upto <= emitted {
			return nil
		}
		chunk := string(text[emitted:upto])
		emitted = upto
		return onText(chunk)
	}
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		id := smp.Sample(logits)
		if v.IsEOG(id) {
			res.FinishReason = FinishStop
			break
		}
		res.Tokens = append(res.Tokens, id)
		text = append(text, v.Piece(id)...)
		if cut, ok := findStop(text, opt.Stop); ok {
			text = text[:cut]
			res.FinishReason = FinishStop
			break
		}
		if err := emit(safePrefix(text, opt.Stop)); err != nil {
			return res, err
		}
		if len(res.Tokens) >= opt.MaxTokens {
			res.FinishReason = FinishLength
			break
		}
		if logits, err = m.Next(ctx, id); err != nil {
			return res, err
		}
	}
	res.Text = string(text)
	return res, emit(len(text))
}

// findStop returns where the earliest stop string starts in text.
func findStop(text []byte, stops []string) (int, bool) {
	cut, found := len(text), false
	for _, s := range stops {
		if i := strings.Index(string(text), s); i >= 0 && i < cut {
			cut, found = i, true
		}
	}
	return cut, found
}

// safePrefix returns how much of text can be shown: not a trailing partial
// UTF-8 character, and not a suffix that begins a stop string.
func safePrefix(text []byte, stops []string) int {
	n := len(text)
	for _, s := range stops {
		for k := min(len(s)-1, len(text)); k > 0; k-- {
			if strings.HasSuffix(string(text), s[:k]) {
				n = min(n, len(text)-k)
				break
			}
		}
	}
	// Back off over an incomplete final character (at most 3 bytes).
	for back := 0; back < 3 && n-back > 0; back++ {
		r := text[n-back-1]
		if r < utf8.RuneSelf {
			break
		}
		if utf8.RuneStart(r) {
			if !utf8.FullRune(text[n-back-1 : n]) {
				n -= back + 1
			}
			break
		}
	}
	return n
}
