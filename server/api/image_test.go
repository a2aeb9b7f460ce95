package api

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// testImage is a small image whose pixels vary.
func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 17), uint8(y * 29), 90, 255})
		}
	}
	return img
}

func encodePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, testImage(w, h)))
	return buf.Bytes()
}

// pngClaiming returns a real PNG whose header is rewritten to claim w x h
// pixels: a decompression bomb as DecodeConfig sees it.
func pngClaiming(t testing.TB, w, h uint32) []byte {
	t.Helper()
	b := encodePNG(t, 1, 1)
	require.Equal(t, "IHDR", string(b[12:16]))
	binary.BigEndian.PutUint32(b[16:20], w)
	binary.BigEndian.PutUint32(b[20:24], h)
	binary.BigEndian.PutUint32(b[29:33], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func code(t *testing.T, err error) string {
	t.Helper()
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, http.StatusBadRequest, e.Status)
	return e.Code
}

func TestDecodeImageString(t *testing.T) {
	raw := encodePNG(t, 3, 2)
	std := base64.StdEncoding.EncodeToString(raw)
	for _, tc := range []struct {
		name, in string
		want     string // error code, or "" for success
	}{
		{"standard base64", std, ""},
		{"unpadded", base64.RawStdEncoding.EncodeToString(raw), ""},
		{"url alphabet", base64.URLEncoding.EncodeToString(raw), ""},
		{"surrounding space", "  " + std + "\n", ""},
		{"data URI", "data:image/png;base64," + std, ""},
		{"data URI, upper case", "DATA:image/png;BASE64," + std, ""},
		{"data URI without type", "data:;base64," + std, ""},
		{"data URI with params", "data:image/png;name=x.png;base64," + std, ""},
		{"data URI not base64", "data:image/png," + std, "invalid_image"},
		{"data URI without comma", "data:image/png;base64", "invalid_image"},
		{"data URI of text", "data:text/plain;base64," + std, "invalid_image"},
		{"bad base64", "not*base64!", "invalid_base64"},
		{"truncated base64", std[:len(std)-3] + "=", "invalid_base64"},
		{"empty", "", "missing_image"},
		{"empty data URI", "data:image/png;base64,", "missing_image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeImageString(tc.in)
			if tc.want != "" {
				require.Equal(t, tc.want, code(t, err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, raw, got)
		})
	}
}

func TestParseImageFormats(t *testing.T) {
	var jpg bytes.Buffer
	require.NoError(t, jpeg.Encode(&jpg, testImage(5, 4), nil))
	webp, err := os.ReadFile("testdata/gradient-12x8.webp")
	require.NoError(t, err)
	for _, tc := range []struct {
		format string
		data   []byte
		w, h   int
	}{
		{"png", encodePNG(t, 7, 3), 7, 3},
		{"jpeg", jpg.Bytes(), 5, 4},
		{"webp", webp, 12, 8},
	} {
		t.Run(tc.format, func(t *testing.T) {
			im, err := ParseImage(tc.data, 1000)
			require.NoError(t, err)
			require.Equal(t, tc.format, im.Format)
			require.Equal(t, [2]int{tc.w, tc.h}, [2]int{im.Width, im.Height})
			require.Nil(t, im.Pixels, "ParseImage must not decode")
			require.NoError(t, im.Decode())
			require.Equal(t, image.Rect(0, 0, tc.w, tc.h), im.Pixels.Bounds())
		})
	}
}

func TestParseImageRefusals(t *testing.T) {
	var gifBuf bytes.Buffer
	require.NoError(t, gif.Encode(&gifBuf, testImage(2, 2), nil))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"text", []byte("hello, I am not an image"), "invalid_image"},
		{"truncated header", encodePNG(t, 4, 4)[:20], "invalid_image"},
		{"gif", gifBuf.Bytes(), "unsupported_image_format"},
		{"decompression bomb", pngClaiming(t, 100000, 100000), "image_too_large"},
		{"one pixel over", encodePNG(t, 11, 10), "image_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseImage(tc.data, 100)
			require.Equal(t, tc.want, code(t, err))
		})
	}
	_, err := ParseImage(encodePNG(t, 10, 10), 100)
	require.NoError(t, err, "an image of exactly the limit is accepted")
}

func TestDecodeRefusesCorruptPixels(t *testing.T) {
	b := encodePNG(t, 8, 8)
	im, err := ParseImage(b[:len(b)-20], 1000) // the header survives, the data does not
	require.NoError(t, err)
	require.Equal(t, "invalid_image", code(t, im.Decode()))
	require.Nil(t, im.Pixels)

	// A header that disagrees with the data is refused too.
	lying := &Image{Format: "png", Width: 9, Height: 8, Data: b}
	require.Equal(t, "invalid_image", code(t, lying.Decode()))
}

func FuzzParseImage(f *testing.F) {
	f.Add(encodePNG(f, 2, 2))
	f.Add(pngClaiming(f, 1<<20, 1<<20))
	var jpg bytes.Buffer
	require.NoError(f, jpeg.Encode(&jpg, testImage(3, 3), nil))
	f.Add(jpg.Bytes())
	if webp, err := os.ReadFile("testdata/gradient-12x8.webp"); err == nil {
		f.Add(webp)
	}
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8L"))
	const limit = 64 * 64
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := ParseImage(data, limit)
		if err != nil {
			code(t, err)
			return
		}
		require.LessOrEqual(t, im.Width*im.Height, limit)
		if err := im.Decode(); err != nil {
			code(t, err)
			return
		}
		require.Equal(t, image.Rect(0, 0, im.Width, im.Height), im.Pixels.Bounds().Sub(im.Pixels.Bounds().Min))
	})
}
