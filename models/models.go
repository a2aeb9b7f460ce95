// Package models embeds the default model that `mmllm serve` runs when no
// model file is given, so the server starts on a fresh machine with nothing
// to download.
//
// The embedded pair is the tiny random-weight SmolVLM-shaped model of
// testdata/llamacpp/vision (a llama text model with n_embd 16 and the
// 49152-token starcoder vocabulary plus SmolVLM's image tokens, and an
// idefics3 vision projector; see testdata/llamacpp/README.md). Its weights
// are random, so its answers are not meaningful text: it exercises the whole
// server and engine path (tokenizer, vision encoder, decoder, generation)
// with real GGUF files. Serve a real SmolVLM GGUF pair with --model and
// --mmproj.
package models

import (
	_ "embed"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
)

// Name is the model id the default model is served under.
const Name = "tiny-smolvlm-random"

//go:embed tiny-smolvlm-text-f32.gguf
var text []byte

//go:embed tiny-smolvlm-mmproj-f32.gguf
var mmproj []byte

// Default parses the embedded text model and vision projector. The tensors
// are read in place from the binary's read-only data.
func Default() (textFile, mmprojFile *gguf.File, err error) {
	if textFile, err = gguf.Parse("embedded:"+Name+"-text.gguf", text); err != nil {
		return nil, nil, err
	}
	if mmprojFile, err = gguf.Parse("embedded:"+Name+"-mmproj.gguf", mmproj); err != nil {
		return nil, nil, err
	}
	return textFile, mmprojFile, nil
}
