// Package tokenizer is the engine's byte-level BPE tokenizer (the "gpt2"
// tokenizer model of GGUF files), written to reproduce llama.cpp's token ids
// exactly.
//
// # Pipeline
//
// Encode follows llama.cpp's llama_tokenize for BPE vocabularies:
//
//  1. Special tokens. The text is cut at every occurrence of a special token
//     (token types control, user-defined and unknown; control and unknown only
//     when parseSpecial is true). Tokens are tried longest text first; each one
//     splits every text fragment that is still raw, leftmost occurrence first.
//  2. Code points. Each raw fragment is decoded to code points the way
//     llama.cpp does it: leniently (overlong forms and surrogates are accepted
//     as they decode), an invalid byte becomes U+FFFD, and a code point above
//     U+10FFFF is an error (llama.cpp throws on it).
//  3. Pre-tokenization. The code points are split into words by the
//     pre-tokenizer named in tokenizer.ggml.pre (see splitters.go), written by
//     hand after the regular expressions llama.cpp uses (Go's regexp has no
//     look-ahead).
//  4. Byte encoding. Each word is re-encoded as UTF-8 and each byte replaced by
//     its GPT-2 "byte to unicode" character.
//  5. BPE. Adjacent symbols of a word are merged by merge rank (lowest first,
//     leftmost on ties) until no listed merge applies; every final symbol is
//     looked up in the vocabulary (see bpe.go).
//
// addSpecial adds the BOS / EOS tokens when the vocabulary asks for them
// (tokenizer.ggml.add_bos_token / add_eos_token).
//
// Decode concatenates the byte strings of the tokens (Piece): normal tokens
// undo the byte-to-unicode mapping, special tokens give their text.
package tokenizer
