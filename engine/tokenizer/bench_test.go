package tokenizer

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkEncode encodes the whole .inp file of each test vocabulary (mixed
// scripts, emoji, white space runs, digits) as one text; MB/s is input bytes.
func BenchmarkEncode(b *testing.B) {
	for _, name := range vocabFiles {
		b.Run(name, func(b *testing.B) {
			tok := loadTokenizer(b, filepath.Join("vocab", name))
			text, err := os.ReadFile(filepath.Join(llamaDir, "vocab", name+".inp"))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			for b.Loop() {
				if _, err := tok.Encode(string(text), false, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
