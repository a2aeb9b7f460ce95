package vision

import "math"

// The resize functions below follow llama.cpp's image tools (mtmd image
// preprocessing) operation for operation, in float32 where llama.cpp uses
// float and in float64 where its constants are doubles, so that their
// rounding matches. The Go spec lets the compiler fuse x*y + z into one
// FMA (rounded once), and on arm64 it does, even across statements, where
// llama.cpp rounds the product first; an explicit conversion, float32(x*y)
// or float64(x*y), forces that rounding, so every product that feeds an
// addition or subtraction below is wrapped in one (without them the global
// view differed from llama.cpp's by one 8-bit level on arm64).

// clampInt returns v limited to [lo, hi].
func clampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }

// resizeBilinear stretches src to w×h (aspect ratio not kept) with
// llama.cpp's bilinear: the corners of the source and destination are
// aligned (a step of (n-1)/(w-1) source pixels), neighbours are clamped
// to the last pixel, and the result is truncated to uint8.
func resizeBilinear(src *rgb, w, h int) *rgb {
	dst := newRGB(w, h)
	xr, yr := float32(0), float32(0)
	if w > 1 {
		xr = float32(src.w-1) / float32(w-1)
	}
	if h > 1 {
		yr = float32(src.h-1) / float32(h-1)
	}
	for y := range h {
		py := float32(float32(y) * yr) // rounded: fy must not fuse
		y0 := int(py)
		y1 := min(y0+1, src.h-1)
		fy := py - float32(y0)
		for x := range w {
			px := float32(float32(x) * xr) // rounded: fx must not fuse
			x0 := int(px)
			x1 := min(x0+1, src.w-1)
			fx := px - float32(x0)
			for c := range 3 {
				p00, p10 := float32(src.at(x0, y0, c)), float32(src.at(x1, y0, c))
				p01, p11 := float32(src.at(x0, y1, c)), float32(src.at(x1, y1, c))
				top := p00 + float32((p10-p00)*fx)
				bottom := p01 + float32((p11-p01)*fx)
				dst.pix[3*(y*w+x)+c] = uint8(top + float32((bottom-top)*fy))
			}
		}
	}
	return dst
}

// resizeBicubic stretches src to w×h with llama.cpp's bicubic
// interpolation (after ViT.cpp): destination pixel (j, i) samples the
// source at (j·nx/w, i·ny/h) (no half-pixel offset), interpolates a cubic
// through 4 neighbours along x in each of 4 rows, then along y, and rounds
// to the nearest uint8. Source pixels outside the image are clamped to the
// edge.
func resizeBicubic(src *rgb, w, h int) *rgb {
	dst := newRGB(w, h)
	tx := float32(src.w) / float32(w)
	ty := float32(src.h) / float32(h)
	var col [4]float32
	for i := range h {
		y := int(ty * float32(i))
		dy := float32(ty*float32(i)) - float32(y)
		for j := range w {
			x := int(tx * float32(j))
			dx := float32(tx*float32(j)) - float32(x)
			for k := range 3 {
				for jj := range col {
					row := clampInt(y-1+jj, 0, src.h-1)
					p := func(xx int) float32 { return float32(src.at(clampInt(xx, 0, src.w-1), row, k)) }
					col[jj] = cubic(p(x-1), p(x), p(x+1), p(x+2), dx)
				}
				v := cubic(col[0], col[1], col[2], col[3], dy)
				dst.pix[3*(i*w+j)+k] = uint8(min(max(float32(math.Round(float64(v))), 0), 255))
			}
		}
	}
	return dst
}

// cubic interpolates between b (t = 0) and c (t = 1) with neighbours a and
// d, with llama.cpp's coefficients: computed in double from float
// differences, stored as float, evaluated as a float polynomial.
func cubic(a, b, c, d, t float32) float32 {
	d0, d2, d3 := float64(a-b), float64(c-b), float64(d-b)
	a1 := float32(float64(-1.0/3*d0) + d2 - float64(1.0/6*d3))
	a2 := float32(float64(1.0/2*d0) + float64(1.0/2*d2))
	a3 := float32(float64(-1.0/6*d0) - float64(1.0/2*d2) + float64(1.0/6*d3))
	// b + a1·t + a2·t·t + a3·t·t·t, multiplied left to right
	s := b + float32(a1*t)
	s += float32(float32(a2*t) * t)
	return s + float32(float32(float32(a3*t)*t)*t)
}

// resizeFit scales src into w×h keeping its aspect ratio (bicubic) and
// centres it on black, as llama.cpp resizes the refined image of a tiled
// model (padding on); an image already w×h is copied unchanged.
func resizeFit(src *rgb, w, h int) *rgb {
	if src.w == w && src.h == h {
		dst := newRGB(w, h)
		copy(dst.pix, src.pix)
		return dst
	}
	scale := min(float32(w)/float32(src.w), float32(h)/float32(src.h))
	nw := max(1, min(int(math.Ceil(float64(float32(src.w)*scale))), w))
	nh := max(1, min(int(math.Ceil(float64(float32(src.h)*scale))), h))
	fitted := resizeBicubic(src, nw, nh)
	dst := newRGB(w, h) // black
	ox, oy := (w-nw)/2, (h-nh)/2
	for y := range nh {
		copy(dst.pix[3*((oy+y)*w+ox):], fitted.pix[3*y*nw:3*(y+1)*nw])
	}
	return dst
}

// crop returns the w×h rectangle of src at (x, y), which must lie inside.
func crop(src *rgb, x, y, w, h int) *rgb {
	dst := newRGB(w, h)
	for r := range h {
		copy(dst.pix[3*r*w:3*(r+1)*w], src.pix[3*((y+r)*src.w+x):])
	}
	return dst
}
