package vision

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeImage: no input panics or passes the pixel limit, and every
// image that decodes preprocesses into a full batch.
func FuzzDecodeImage(f *testing.F) {
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, testPattern(9, 5), nil); err != nil {
		f.Fatal(err)
	}
	f.Add(jpg.Bytes())
	f.Add(encodePNG(f, testPattern(3, 7)))
	if webp, err := os.ReadFile(filepath.Join("testdata", "gradient-12x8.webp")); err == nil {
		f.Add(webp)
	}
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8L"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	const limit = 64 * 64
	var e *Encoder
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeImage(data, limit)
		if err != nil {
			return
		}
		if b := img.Bounds(); b.Dx()*b.Dy() > limit || b.Empty() {
			t.Fatalf("decoded %v past the limit", b)
		}
		if e == nil {
			e = loadGoldenEncoder(t)
		}
		batch, err := e.Preprocess(img)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch.Images) != batch.Tiles()+1 {
			t.Fatalf("%d images for a %v grid", len(batch.Images), batch.Grid)
		}
	})
}
