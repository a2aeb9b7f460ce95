package vision

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPreprocessGolden reproduces llama.cpp's preprocessed pixels of the
// golden PNG bit for bit: six plain 64×64 crops and the bilinear global view.
func TestPreprocessGolden(t *testing.T) {
	e := loadGoldenEncoder(t)
	b := goldenBatch(t, e)
	require.Equal(t, Grid{Rows: 2, Cols: 3}, b.Grid)
	require.Equal(t, 64, b.Size)
	want := readGolden(t, "preproc_pixels.f32")
	require.Len(t, b.Images, 7)
	n := 3 * 64 * 64
	for i, img := range b.Images {
		got := want[i*n : (i+1)*n]
		for j := range img {
			if math.Float32bits(img[j]) != math.Float32bits(got[j]) {
				c, y, x := j/(64*64), j/64%64, j%64
				t.Fatalf("image %d channel %d pixel (%d,%d): got %v, llama.cpp %v", i, c, x, y, img[j], got[j])
			}
		}
	}
}

func TestRefinedSize(t *testing.T) {
	for _, c := range []struct{ w, h, edge, rw, rh int }{
		{192, 128, 192, 192, 128}, // the golden image: scale 1
		{1, 1, 192, 192, 192},     // upscaled to the longest edge
		{4000, 10, 192, 192, 64},  // the short side rounds up to one tile
		{10, 4000, 192, 64, 192},
		{100, 50, 192, 192, 128}, // 192×96 rounded up
		{300, 200, 192, 192, 128},
		{65, 64, 192, 192, 192}, // 192×189.05 rounded up
		{192, 128, 0, 0, 0},     // no preproc_image_size: no tiles
	} {
		rw, rh := refinedSize(c.w, c.h, 64, c.edge)
		require.Equal(t, [2]int{c.rw, c.rh}, [2]int{rw, rh}, "%dx%d edge %d", c.w, c.h, c.edge)
	}
}

// uniform returns a w×h image of one colour.
func uniform(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

// TestPreprocessShapes preprocesses images that need resizing (there is no
// golden for them): the grid follows the refined size, every image has
// 3×64×64 values within the normalized range, and a uniform image stays
// uniform except for the black padding of the refined image.
func TestPreprocessShapes(t *testing.T) {
	e := loadGoldenEncoder(t)
	colour := color.NRGBA{R: 255, G: 0, B: 51, A: 255}
	want := [3]float32{1, -1, (51.0/255 - 0.5) / 0.5}
	const black = -1
	for _, c := range []struct {
		w, h       int
		grid       Grid
		padRows    [2]int // rows of the refined image (y range) holding the picture
		padColumns [2]int
	}{
		{1, 1, Grid{3, 3}, [2]int{0, 192}, [2]int{0, 192}},
		{4000, 10, Grid{1, 3}, [2]int{31, 32}, [2]int{0, 192}}, // fitted to 192×1, centred
		{10, 4000, Grid{3, 1}, [2]int{0, 192}, [2]int{31, 32}},
		{300, 200, Grid{2, 3}, [2]int{0, 128}, [2]int{0, 192}},
		{65, 64, Grid{3, 3}, [2]int{1, 191}, [2]int{0, 192}}, // fitted to 192×190
		{64, 64, Grid{3, 3}, [2]int{0, 192}, [2]int{0, 192}},
	} {
		b, err := e.Preprocess(uniform(c.w, c.h, colour))
		require.NoError(t, err, "%dx%d", c.w, c.h)
		require.Equal(t, c.grid, b.Grid, "%dx%d", c.w, c.h)
		require.Len(t, b.Images, c.grid.Tiles()+1)
		for i, img := range b.Images {
			require.Len(t, img, 3*64*64)
			for j, v := range img {
				ch, y, x := j/(64*64), j/64%64, j%64
				expect := want[ch]
				if i < c.grid.Tiles() { // a tile: its place in the refined image
					ry, rx := i/c.grid.Cols*64+y, i%c.grid.Cols*64+x
					if ry < c.padRows[0] || ry >= c.padRows[1] || rx < c.padColumns[0] || rx >= c.padColumns[1] {
						expect = black
					}
				}
				if v != expect {
					t.Fatalf("%dx%d image %d channel %d pixel (%d,%d): %v, want %v", c.w, c.h, i, ch, x, y, v, expect)
				}
			}
		}
	}

	// A varied image that needs resizing stays within the normalized range.
	b, err := e.Preprocess(testPattern(300, 170))
	require.NoError(t, err)
	require.Equal(t, Grid{2, 3}, b.Grid)
	for _, img := range b.Images {
		for _, v := range img {
			require.True(t, v >= -1 && v <= 1, "%v", v)
		}
	}

	_, err = e.Preprocess(image.NewNRGBA(image.Rect(0, 0, 0, 5)))
	require.Error(t, err)
	_, err = e.Preprocess(nil)
	require.Error(t, err)
}

// TestPreprocessNoTiles: without preproc_image_size only the global view
// is made.
func TestPreprocessNoTiles(t *testing.T) {
	e := loadGoldenEncoder(t)
	e.LongestEdge = 0
	b, err := e.Preprocess(testPattern(192, 128))
	require.NoError(t, err)
	require.Equal(t, Grid{}, b.Grid)
	require.Len(t, b.Images, 1)
}
