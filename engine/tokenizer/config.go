package tokenizer

// TokenType is the type of a vocabulary entry, as stored in the GGUF key
// tokenizer.ggml.token_type (llama.cpp's llama_token_type).
type TokenType int32

// Token types.
const (
	TypeUndefined   TokenType = 0
	TypeNormal      TokenType = 1
	TypeUnknown     TokenType = 2
	TypeControl     TokenType = 3
	TypeUserDefined TokenType = 4
	TypeUnused      TokenType = 5
	TypeByte        TokenType = 6
)

// NoToken marks an absent special token id.
const NoToken int32 = -1

// ModelGPT2 is the only tokenizer model (tokenizer.ggml.model) this package
// implements: byte-level BPE.
const ModelGPT2 = "gpt2"

// Config holds what a GGUF file says about its tokenizer (the tokenizer.*
// metadata keys). Special ids are NoToken when the file does not name them.
type Config struct {
	// Model is tokenizer.ggml.model; it must be "gpt2".
	Model string
	// Pre is tokenizer.ggml.pre, the pre-tokenizer name ("gpt-2",
	// "starcoder", "smollm", "llama3", ...); empty means llama.cpp's "default".
	Pre string
	// Tokens is tokenizer.ggml.tokens: the text of every token, indexed by id.
	Tokens []string
	// TokenTypes is tokenizer.ggml.token_type (values TokenType); empty means
	// every token is normal.
	TokenTypes []int32
	// Merges is tokenizer.ggml.merges: "left right" pairs, highest priority
	// first.
	Merges []string
	// BOS, EOS, EOT, UNK and PAD are tokenizer.ggml.bos_token_id,
	// eos_token_id, eot_token_id, unknown_token_id and padding_token_id.
	BOS, EOS, EOT, UNK, PAD int32
	// AddBOS and AddEOS are tokenizer.ggml.add_bos_token and add_eos_token
	// (or llama.cpp's default for the pre-tokenizer when the key is absent).
	AddBOS, AddEOS bool
}

// Special holds the special token ids of a tokenizer; NoToken where absent.
type Special struct {
	BOS, EOS, EOT, UNK, PAD int32
}
