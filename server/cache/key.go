package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"

	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
)

// keyVersion changes when the key's layout does, so old entries are never
// read with a new meaning.
const keyVersion = "mmllm-cache-key-v1"

// Key identifies a cached result: a SHA-256 digest.
type Key [sha256.Size]byte

// String returns the key in hex.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// KeyFor returns the key of req on the model revision rev: a hash of the
// model, revision, task, prompt, chat messages, the encoded bytes of every
// image and the decoding parameters that change a greedy answer (the token
// budget and stop strings; temperature, top-k, top-p and seed too when
// sampling). Every field is length-prefixed, so no two requests share an
// encoding.
func KeyFor(req api.GenerateRequest, rev string) Key {
	h := keyHasher{h: sha256.New()}
	h.str(keyVersion)
	h.str(req.Model)
	h.str(rev)
	h.str(string(req.Task))
	h.str(req.Prompt)
	h.num(uint64(len(req.Messages)))
	for _, m := range req.Messages {
		h.str(m.Role)
		h.num(uint64(len(m.Parts)))
		for _, p := range m.Parts {
			h.num(uint64(p.Kind))
			h.str(p.Text)
			h.num(uint64(p.Image))
		}
	}
	h.num(uint64(len(req.Images)))
	for _, im := range req.Images {
		h.bytes(im.Data)
	}
	s := req.Sampling
	h.num(uint64(s.MaxTokens))
	h.num(uint64(len(s.Stop)))
	for _, stop := range s.Stop {
		h.str(stop)
	}
	h.num(uint64(math.Float32bits(s.Temperature)))
	if !s.Greedy() {
		h.num(uint64(s.TopK))
		h.num(uint64(math.Float32bits(s.TopP)))
		h.num(s.Seed)
	}
	var k Key
	h.h.Sum(k[:0])
	return k
}

// keyHasher writes length-prefixed fields into a hash.
type keyHasher struct{ h hash.Hash }

func (k keyHasher) num(v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	k.h.Write(b[:])
}

func (k keyHasher) bytes(b []byte) {
	k.num(uint64(len(b)))
	k.h.Write(b)
}

func (k keyHasher) str(s string) {
	k.num(uint64(len(s)))
	k.h.Write([]byte(s))
}
