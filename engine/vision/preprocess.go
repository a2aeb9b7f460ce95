package vision

import (
	"fmt"
	"image"
	"math"
)

// Grid is the tiling of one image: Rows×Cols tiles, row-major; 0×0 when
// the image is encoded as its global view alone.
type Grid struct {
	Rows, Cols int
}

// Tiles returns the number of tiles.
func (g Grid) Tiles() int { return g.Rows * g.Cols }

// Batch is a preprocessed image: the normalized tiles of its grid,
// row-major, followed by the global view, each a planar float32 image
// [3 channels R,G,B][Size rows][Size columns].
type Batch struct {
	Grid
	Size   int
	Images [][]float32
}

// Preprocess cuts and normalizes an image as llama.cpp's idefics3
// preprocessor does:
//
//  1. the refined size: the image scaled so that its longest side is
//     LongestEdge, each side then rounded up to a multiple of ImageSize;
//  2. the image resized into the refined size (bicubic, aspect ratio kept,
//     centred on black; unchanged when it already has that size) and cut
//     into ImageSize tiles, row-major;
//  3. the global view: the whole image stretched to ImageSize×ImageSize
//     (bilinear, truncated to 8 bits);
//  4. every pixel v becomes (v/255 - mean)/std per channel, in float32.
//
// With LongestEdge 0 (no clip.vision.preproc_image_size key) there are no
// tiles, only the global view.
func (e *Encoder) Preprocess(img image.Image) (*Batch, error) {
	if img == nil || img.Bounds().Empty() {
		return nil, fmt.Errorf("vision: preprocess: the image has no pixels")
	}
	src := toRGB(img)
	size := e.ImageSize
	rw, rh := refinedSize(src.w, src.h, size, e.LongestEdge)
	b := &Batch{Grid: Grid{Rows: rh / size, Cols: rw / size}, Size: size}
	if b.Tiles() > 0 {
		refined := resizeFit(src, rw, rh)
		for r := range b.Rows {
			for c := range b.Cols {
				b.Images = append(b.Images, e.normalize(crop(refined, c*size, r*size, size, size)))
			}
		}
	}
	b.Images = append(b.Images, e.normalize(resizeBilinear(src, size, size)))
	return b, nil
}

// refinedSize returns llama.cpp's refined size of a w×h image for tiles of
// side tile and a longest edge: scale = min(edge/w, edge/h) in float32,
// each scaled side rounded up to a multiple of tile. A longest edge of 0
// gives 0×0 (no tiles).
func refinedSize(w, h, tile, edge int) (int, int) {
	if edge <= 0 || w <= 0 || h <= 0 {
		return 0, 0
	}
	scale := min(float32(edge)/float32(w), float32(edge)/float32(h))
	up := func(n int) int {
		v := float32(float32(n)*scale) / float32(tile)
		return int(math.Ceil(float64(v))) * tile
	}
	return up(w), up(h)
}

// normalize converts an 8-bit image to planar float32 with the model's
// mean and std: (v/255 - mean[c]) / std[c].
func (e *Encoder) normalize(m *rgb) []float32 {
	n := m.w * m.h
	out := make([]float32, 3*n)
	for i := range n {
		for c := range 3 {
			v := float32(m.pix[3*i+c]) / 255
			out[c*n+i] = (v - e.Mean[c]) / e.Std[c]
		}
	}
	return out
}
