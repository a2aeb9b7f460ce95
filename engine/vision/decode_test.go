package vision

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// testPattern returns a w×h NRGBA image with distinct colours.
func testPattern(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 37), uint8(y * 91), uint8(x*y + 7), 255})
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// pngClaiming returns a PNG whose header claims w×h pixels (the IHDR
// checksum fixed up) but whose data is that of a 1×1 image.
func pngClaiming(t *testing.T, w, h uint32) []byte {
	data := encodePNG(t, testPattern(1, 1))
	ihdr := data[8+8 : 8+8+13] // signature, chunk length and type, then IHDR fields
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	binary.BigEndian.PutUint32(data[8+8+13:], crc32.ChecksumIEEE(data[8+4:8+8+13]))
	return data
}

func TestDecodeImage(t *testing.T) {
	var jpg bytes.Buffer
	require.NoError(t, jpeg.Encode(&jpg, testPattern(5, 4), nil))
	webp, err := os.ReadFile(filepath.Join("testdata", "gradient-12x8.webp"))
	require.NoError(t, err)
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	for _, c := range []struct {
		name      string
		data      []byte
		maxPixels int
		w, h      int
		err       error // nil: success
	}{
		{"png", encodePNG(t, testPattern(7, 3)), 0, 7, 3, nil},
		{"jpeg", jpg.Bytes(), 0, 5, 4, nil},
		{"webp", webp, 0, 12, 8, nil},
		{"at the limit", encodePNG(t, testPattern(7, 3)), 21, 7, 3, nil},
		{"over the limit", encodePNG(t, testPattern(7, 3)), 20, 0, 0, ErrTooLarge},
		{"huge header, checked before decoding", pngClaiming(t, 100000, 100000), 0, 0, 0, ErrTooLarge},
		{"text", []byte("this is not an image"), 0, 0, 0, ErrNotImage},
		{"empty", nil, 0, 0, 0, ErrNotImage},
		{"gif is not accepted", gif, 0, 0, 0, ErrNotImage},
		{"zero width", pngClaiming(t, 0, 1), 0, 0, 0, ErrNotImage},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := DecodeImage(c.data, c.maxPixels)
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, image.Rect(0, 0, c.w, c.h), img.Bounds())
		})
	}

	// A header that matches but pixel data that is cut short fails cleanly.
	full := encodePNG(t, testPattern(40, 30))
	_, err = DecodeImage(full[:len(full)/2], 0)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrNotImage)
}

// TestToRGB checks the fast paths of toRGB against the generic one
// (colour.NRGBAModel per pixel) for the image types the decoders return.
func TestToRGB(t *testing.T) {
	w, h := 5, 3
	nrgba := testPattern(w, h)
	nrgba.SetNRGBA(1, 1, color.NRGBA{200, 100, 50, 0}) // alpha dropped, colour kept
	rgba := image.NewRGBA(nrgba.Bounds())
	for y := range h {
		for x := range w {
			rgba.Set(x, y, nrgba.At(x, y))
		}
	}
	rgba.SetRGBA(2, 2, color.RGBA{64, 32, 16, 128}) // premultiplied, half transparent
	ycc := image.NewYCbCr(nrgba.Bounds(), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i * 13)
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(i*40), uint8(255-i*30)
	}
	gray := image.NewGray(nrgba.Bounds())
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 17)
	}
	sub := nrgba.SubImage(image.Rect(1, 1, 4, 3))
	for name, img := range map[string]image.Image{"nrgba": nrgba, "rgba": rgba, "ycbcr": ycc, "gray": gray, "sub-image": sub} {
		got := toRGB(img)
		b := img.Bounds()
		require.Equal(t, b.Dx(), got.w, name)
		require.Equal(t, b.Dy(), got.h, name)
		for y := range got.h {
			for x := range got.w {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				if name == "nrgba" || name == "sub-image" {
					c = img.(interface{ NRGBAAt(x, y int) color.NRGBA }).NRGBAAt(b.Min.X+x, b.Min.Y+y)
				}
				require.Equal(t, [3]uint8{c.R, c.G, c.B}, [3]uint8{got.at(x, y, 0), got.at(x, y, 1), got.at(x, y, 2)},
					"%s pixel (%d,%d)", name, x, y)
			}
		}
	}
	require.Equal(t, uint8(200), toRGB(nrgba).at(1, 1, 0), "transparent NRGBA keeps its colour")
}
