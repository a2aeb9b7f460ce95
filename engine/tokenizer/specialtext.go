package tokenizer

// llama.cpp recognises some special tokens by their text alone (GGUF files
// often lack the ids): it takes them as end-of-turn / end-of-generation
// tokens and makes them control tokens if their type says otherwise. These
// are its lists (llama-vocab.cpp, load).

// eotTexts returns the texts llama.cpp looks for when
// tokenizer.ggml.eot_token_id is absent; the first one found is the
// end-of-turn token.
func eotTexts() []string {
	return []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
		"<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"}
}

// isEOGText reports a text llama.cpp takes as an end-of-generation token.
func isEOGText(s string) bool {
	switch s {
	case "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
		"<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
		"<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
		"<｜end▁of▁sentence｜>", "[e~[":
		return true
	}
	return false
}

// fimEOGGroups returns the texts of the fill-in-the-middle pad, repository
// and file-separator tokens: for each group llama.cpp picks one token by text,
// makes it a control token and ends generation on it.
func fimEOGGroups() [][]string {
	return [][]string{
		{"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"},
		{"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"},
		{"<|file_sep|>"},
	}
}

// fimControlGroups returns the texts of the fill-in-the-middle prefix, suffix
// and middle tokens, which llama.cpp makes control tokens.
func fimControlGroups() [][]string {
	return [][]string{
		{"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"},
		{"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"},
		{"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"},
	}
}

// firstByText returns the lowest id whose text is one of texts, or NoToken.
func firstByText(ids map[string]int32, nTokens int32, texts []string) int32 {
	best := NoToken
	for _, s := range texts {
		if id, ok := ids[s]; ok && id < nTokens && (best == NoToken || id < best) {
			best = id
		}
	}
	return best
}
