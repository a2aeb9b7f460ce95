package vision

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// ramp returns a w×h image whose channels are step·x, step·y and 7.
func ramp(w, h, step int) *rgb {
	m := newRGB(w, h)
	for y := range h {
		for x := range w {
			i := 3 * (y*w + x)
			m.pix[i], m.pix[i+1], m.pix[i+2] = uint8(step*x), uint8(step*y), 7
		}
	}
	return m
}

// TestResizeBicubic: llama.cpp's cubic reproduces linear functions, so
// away from the clamped borders an upscaled ramp is the ramp sampled at
// j·w/W (no half-pixel offset); the same size is the identity.
func TestResizeBicubic(t *testing.T) {
	src := ramp(10, 6, 20)
	dst := resizeBicubic(src, 20, 12)
	for i := 2; i < 8; i++ { // source rows 1..3: all four neighbours inside
		for j := 2; j < 14; j++ { // source columns 1..6.5
			require.Equal(t, uint8(10*j), dst.at(j, i, 0), "(%d,%d) red", j, i)
			require.Equal(t, uint8(10*i), dst.at(j, i, 1), "(%d,%d) green", j, i)
			require.Equal(t, uint8(7), dst.at(j, i, 2))
		}
	}
	require.Equal(t, src.pix, resizeBicubic(src, 10, 6).pix)

	// Overshoot next to a sharp edge is clamped to [0, 255].
	edge := newRGB(4, 1)
	copy(edge.pix, []uint8{0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255})
	up := resizeBicubic(edge, 16, 1)
	require.Equal(t, uint8(0), up.at(2, 0, 0))    // the cubic dips below 0 here
	require.Equal(t, uint8(255), up.at(10, 0, 0)) // and rises above 255 here
}

// TestResizeBilinear: corners map to corners, the interior interpolates
// linearly with truncation, the same size is the identity.
func TestResizeBilinear(t *testing.T) {
	src := ramp(7, 5, 30)
	dst := resizeBilinear(src, 13, 9) // steps of exactly 0.5 source pixels
	for y := range 9 {
		for x := range 13 {
			require.Equal(t, uint8(15*x), dst.at(x, y, 0), "(%d,%d)", x, y)
			require.Equal(t, uint8(15*y), dst.at(x, y, 1), "(%d,%d)", x, y)
		}
	}
	require.Equal(t, src.pix, resizeBilinear(src, 7, 5).pix)
	one := ramp(1, 1, 1)
	one.pix[0] = 99
	require.Equal(t, uint8(99), resizeBilinear(one, 3, 2).at(2, 1, 0), "1×1 source")
	src = ramp(5, 5, 9)
	src.pix[0] = 42
	require.Equal(t, src.pix[:3], resizeBilinear(src, 1, 1).pix, "1×1 destination: the first pixel")
}

func TestCropAndFit(t *testing.T) {
	src := ramp(6, 4, 10)
	c := crop(src, 2, 1, 3, 2)
	require.Equal(t, uint8(20), c.at(0, 0, 0))
	require.Equal(t, uint8(20), c.at(2, 1, 1))
	fit := resizeFit(src, 6, 4)
	require.Equal(t, src.pix, fit.pix)
	fit.pix[0] = 1
	require.NotEqual(t, src.pix[0], fit.pix[0], "a copy, not the source")
}
