package vision

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers the JPEG decoder
	_ "image/png"  // registers the PNG decoder

	_ "golang.org/x/image/webp" // registers the WebP decoder
)

// DefaultMaxPixels is the pixel limit DecodeImage applies when given 0:
// 50 megapixels, about 150 MB of decoded RGB.
const DefaultMaxPixels = 50_000_000

// ErrNotImage is wrapped by DecodeImage when the bytes are not a JPEG, PNG
// or WebP image.
var ErrNotImage = errors.New("not a JPEG, PNG or WebP image")

// ErrTooLarge is wrapped by DecodeImage when the image has more pixels than
// the limit.
var ErrTooLarge = errors.New("image over the pixel limit")

// decodable are the formats DecodeImage accepts, as image.DecodeConfig
// names them.
var decodable = map[string]bool{"jpeg": true, "png": true, "webp": true}

// DecodeImage decodes a JPEG, PNG or WebP image. The header is read first
// (image.DecodeConfig), so bytes that are not an image, an image of zero
// width or height, and one of more than maxPixels pixels (0 means
// DefaultMaxPixels) are rejected before any pixel is decoded.
func DecodeImage(data []byte, maxPixels int) (image.Image, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("vision: decoding image header: %w (%v)", ErrNotImage, err)
	}
	if !decodable[format] {
		return nil, fmt.Errorf("vision: image format %q: %w", format, ErrNotImage)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("vision: %s image of size %dx%d has no pixels", format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, fmt.Errorf("vision: %s image of %dx%d pixels: %w of %d", format, cfg.Width, cfg.Height, ErrTooLarge, maxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("vision: decoding %dx%d %s image: %w", cfg.Width, cfg.Height, format, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("vision: %s image decodes to %dx%d but its header says %dx%d",
			format, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	return img, nil
}

// rgb is an 8-bit RGB image, 3 interleaved bytes per pixel, row-major: the
// form llama.cpp's preprocessing works on (clip_image_u8).
type rgb struct {
	w, h int
	pix  []uint8
}

func newRGB(w, h int) *rgb { return &rgb{w: w, h: h, pix: make([]uint8, 3*w*h)} }

// at returns channel c of pixel (x, y).
func (m *rgb) at(x, y, c int) uint8 { return m.pix[3*(y*m.w+x)+c] }

// toRGB converts an image to 8-bit RGB. Alpha is dropped without
// compositing (the colour channels are taken un-premultiplied), as
// llama.cpp's image loader (stb_image asked for 3 channels) does.
func toRGB(img image.Image) *rgb {
	b := img.Bounds()
	out := newRGB(b.Dx(), b.Dy())
	i := 0
	switch src := img.(type) {
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, y):]
			for x := 0; x < out.w; x++ {
				copy(out.pix[i:i+3], row[4*x:4*x+3])
				i += 3
			}
		}
	case *image.RGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, y):]
			for x := 0; x < out.w; x++ {
				p := row[4*x : 4*x+4]
				if p[3] != 0xff { // premultiplied: undo it
					c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
					p = []uint8{c.R, c.G, c.B}
				}
				copy(out.pix[i:i+3], p[:3])
				i += 3
			}
		}
	case *image.YCbCr:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				yi, ci := src.YOffset(x, y), src.COffset(x, y)
				out.pix[i], out.pix[i+1], out.pix[i+2] = color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
				i += 3
			}
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				out.pix[i], out.pix[i+1], out.pix[i+2] = c.R, c.G, c.B
				i += 3
			}
		}
	}
	return out
}
