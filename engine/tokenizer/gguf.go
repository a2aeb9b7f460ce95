package tokenizer

// This file is the only one that knows how GGUF metadata is read; it uses
// github.com/gpustack/gguf-parser-go until the engine's own engine/gguf
// package can take its place.

import (
	"errors"
	"fmt"
	"math"

	gguf "github.com/gpustack/gguf-parser-go"
)

// GGUF metadata keys of the tokenizer.
const (
	keyModel  = "tokenizer.ggml.model"
	keyPre    = "tokenizer.ggml.pre"
	keyTokens = "tokenizer.ggml.tokens"
	keyTypes  = "tokenizer.ggml.token_type"
	keyMerges = "tokenizer.ggml.merges"
	keyBOS    = "tokenizer.ggml.bos_token_id"
	keyEOS    = "tokenizer.ggml.eos_token_id"
	keyEOT    = "tokenizer.ggml.eot_token_id"
	keyUNK    = "tokenizer.ggml.unknown_token_id"
	keyPAD    = "tokenizer.ggml.padding_token_id"
	keyAddBOS = "tokenizer.ggml.add_bos_token"
	keyAddEOS = "tokenizer.ggml.add_eos_token"
)

// ConfigFromGGUF reads the tokenizer.* metadata of the GGUF file at path.
// Absent special ids are NoToken; an absent add_bos_token key takes
// llama.cpp's default for the pre-tokenizer (true for the llama3 family).
// The result is not validated: New does that.
func ConfigFromGGUF(path string) (cfg Config, err error) {
	// The library panics on some malformed values; report them as errors.
	defer func() {
		if r := recover(); r != nil {
			cfg, err = Config{}, fmt.Errorf("tokenizer: gguf %s: %v", path, r)
		}
	}()
	f, err := gguf.ParseGGUFFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("tokenizer: read %s: %w", path, err)
	}
	kvs := f.Header.MetadataKV
	var c Config
	var errs []error
	str := func(key string, required bool) string {
		kv, ok := kvs.Get(key)
		if !ok {
			if required {
				errs = append(errs, fmt.Errorf("key %s is missing", key))
			}
			return ""
		}
		if kv.ValueType != gguf.GGUFMetadataValueTypeString {
			errs = append(errs, fmt.Errorf("key %s has type %v, want string", key, kv.ValueType))
			return ""
		}
		return kv.ValueString()
	}
	c.Model = str(keyModel, true)
	c.Pre = str(keyPre, false)

	arr := func(key string, required bool, elem gguf.GGUFMetadataValueType) (gguf.GGUFMetadataKVArrayValue, bool) {
		kv, ok := kvs.Get(key)
		if !ok {
			if required {
				errs = append(errs, fmt.Errorf("key %s is missing", key))
			}
			return gguf.GGUFMetadataKVArrayValue{}, false
		}
		if kv.ValueType != gguf.GGUFMetadataValueTypeArray {
			errs = append(errs, fmt.Errorf("key %s has type %v, want array", key, kv.ValueType))
			return gguf.GGUFMetadataKVArrayValue{}, false
		}
		a := kv.ValueArray()
		if a.Type != elem || uint64(len(a.Array)) != a.Len {
			errs = append(errs, fmt.Errorf("key %s is an array of %v with %d of %d values read, want %v",
				key, a.Type, len(a.Array), a.Len, elem))
			return gguf.GGUFMetadataKVArrayValue{}, false
		}
		return a, true
	}
	if a, ok := arr(keyTokens, true, gguf.GGUFMetadataValueTypeString); ok {
		c.Tokens = a.ValuesString()
	}
	if a, ok := arr(keyTypes, false, gguf.GGUFMetadataValueTypeInt32); ok {
		c.TokenTypes = a.ValuesInt32()
	}
	if a, ok := arr(keyMerges, c.Model == ModelGPT2, gguf.GGUFMetadataValueTypeString); ok {
		c.Merges = a.ValuesString()
	}

	id := func(key string) int32 {
		kv, ok := kvs.Get(key)
		if !ok {
			return NoToken
		}
		if !kv.ValueType.IsNumeric() {
			errs = append(errs, fmt.Errorf("key %s has type %v, want an integer", key, kv.ValueType))
			return NoToken
		}
		v := gguf.ValueNumeric[float64](kv)
		if v != math.Trunc(v) || v < 0 || v > math.MaxInt32 {
			errs = append(errs, fmt.Errorf("key %s = %v is not a token id", key, v))
			return NoToken
		}
		return int32(v)
	}
	c.BOS, c.EOS, c.EOT, c.UNK, c.PAD = id(keyBOS), id(keyEOS), id(keyEOT), id(keyUNK), id(keyPAD)

	flag := func(key string, def bool) bool {
		kv, ok := kvs.Get(key)
		if !ok {
			return def
		}
		if kv.ValueType != gguf.GGUFMetadataValueTypeBool {
			errs = append(errs, fmt.Errorf("key %s has type %v, want bool", key, kv.ValueType))
			return def
		}
		return kv.ValueBool()
	}
	defBOS := false
	if p, ok := lookupPre(c.Pre); ok {
		defBOS = p.addBOS
	}
	c.AddBOS = flag(keyAddBOS, defBOS)
	c.AddEOS = flag(keyAddEOS, false)

	if len(errs) > 0 {
		return Config{}, fmt.Errorf("tokenizer: gguf %s: %w", path, errors.Join(errs...))
	}
	return c, nil
}
