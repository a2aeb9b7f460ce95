package tokenizer

// This file is the only one that knows how GGUF metadata is read.

import (
	"errors"
	"fmt"
	"math"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
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

// ConfigFromGGUF reads the tokenizer.* metadata of the GGUF file at path
// (see ConfigFromFile).
func ConfigFromGGUF(path string) (Config, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	return ConfigFromFile(f)
}

// ConfigFromFile reads the tokenizer.* metadata of an open GGUF file.
// Absent special ids are NoToken; an absent add_bos_token key takes
// llama.cpp's default for the pre-tokenizer (true for the llama3 family).
// The result is not validated: New does that.
func ConfigFromFile(f *gguf.File) (Config, error) {
	var c Config
	var errs []error
	get := func(key string, required bool, want gguf.ValueType, elem gguf.ValueType) (gguf.Value, bool) {
		v, ok := f.Lookup(key)
		if !ok {
			if required {
				errs = append(errs, fmt.Errorf("key %s is missing", key))
			}
			return v, false
		}
		if v.Type() != want || (want == gguf.ValueArray && v.ElemType() != elem) {
			errs = append(errs, fmt.Errorf("key %s has type %s, want %s", key, v.TypeName(), typeName(want, elem)))
			return v, false
		}
		return v, true
	}
	str := func(key string, required bool) string {
		if v, ok := get(key, required, gguf.ValueString, 0); ok {
			return v.Any().(string)
		}
		return ""
	}
	c.Model = str(keyModel, true)
	c.Pre = str(keyPre, false)
	if v, ok := get(keyTokens, true, gguf.ValueArray, gguf.ValueString); ok {
		c.Tokens = v.Any().([]string)
	}
	if v, ok := get(keyTypes, false, gguf.ValueArray, gguf.ValueInt32); ok {
		c.TokenTypes = v.Any().([]int32)
	}
	if v, ok := get(keyMerges, c.Model == ModelGPT2, gguf.ValueArray, gguf.ValueString); ok {
		c.Merges = v.Any().([]string)
	}

	id := func(key string) int32 {
		v, ok := f.Lookup(key)
		if !ok {
			return NoToken
		}
		n, isNum := number(v.Any())
		if !isNum {
			errs = append(errs, fmt.Errorf("key %s has type %s, want an integer", key, v.TypeName()))
			return NoToken
		}
		if n != math.Trunc(n) || n < 0 || n > math.MaxInt32 {
			errs = append(errs, fmt.Errorf("key %s = %v is not a token id", key, n))
			return NoToken
		}
		return int32(n)
	}
	c.BOS, c.EOS, c.EOT, c.UNK, c.PAD = id(keyBOS), id(keyEOS), id(keyEOT), id(keyUNK), id(keyPAD)

	flag := func(key string, def bool) bool {
		if v, ok := get(key, false, gguf.ValueBool, 0); ok {
			return v.Any().(bool)
		}
		return def
	}
	defBOS := false
	if p, ok := lookupPre(c.Pre); ok {
		defBOS = p.addBOS
	}
	c.AddBOS = flag(keyAddBOS, defBOS)
	c.AddEOS = flag(keyAddEOS, false)

	if len(errs) > 0 {
		return Config{}, fmt.Errorf("tokenizer: gguf %s: %w", f.Name(), errors.Join(errs...))
	}
	return c, nil
}

func typeName(t, elem gguf.ValueType) string {
	if t == gguf.ValueArray {
		return "array of " + elem.String()
	}
	return t.String()
}

// number returns a numeric scalar metadata value as a float64.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case uint8:
		return float64(n), true
	case int8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case int16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case int64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
