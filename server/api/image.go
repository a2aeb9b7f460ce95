package api

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	_ "image/jpeg" // registers the JPEG decoder
	_ "image/png"  // registers the PNG decoder
	"strings"

	_ "golang.org/x/image/webp" // registers the WebP decoder
)

// imageFormats are the formats accepted, as image.DecodeConfig names them.
var imageFormats = map[string]bool{"jpeg": true, "png": true, "webp": true}

// DecodeImageString decodes an image field: plain base64 (padded or not,
// standard or URL alphabet) or a data URI ("data:image/png;base64,...").
// It returns a 400 *Error for a bad data URI or bad base64.
func DecodeImageString(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, BadRequest("missing_image", "the image is empty")
	}
	if len(s) >= 5 && strings.EqualFold(s[:5], "data:") {
		payload, err := dataURIPayload(s)
		if err != nil {
			return nil, err
		}
		s = payload
	}
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(s, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}
	data, err := enc.DecodeString(s)
	if err != nil {
		return nil, BadRequest("invalid_base64", fmt.Sprintf("the image is not valid base64: %v", err))
	}
	if len(data) == 0 {
		return nil, BadRequest("missing_image", "the image is empty")
	}
	return data, nil
}

// dataURIPayload returns the base64 part of a data URI whose media type, if
// given, is an image type.
func dataURIPayload(uri string) (string, error) {
	meta, payload, ok := strings.Cut(uri[len("data:"):], ",")
	if !ok {
		return "", BadRequest("invalid_image", "the data URI has no comma before its data")
	}
	params := strings.Split(meta, ";")
	if !strings.EqualFold(strings.TrimSpace(params[len(params)-1]), "base64") {
		return "", BadRequest("invalid_image", "the data URI is not base64-encoded (want ;base64,)")
	}
	mediaType := strings.ToLower(strings.TrimSpace(params[0]))
	if len(params) > 1 && mediaType != "" && !strings.HasPrefix(mediaType, "image/") {
		return "", BadRequest("invalid_image", fmt.Sprintf("the data URI's media type %q is not an image", mediaType))
	}
	return payload, nil
}

// ParseImage checks encoded image bytes from their header alone: a JPEG,
// PNG or WebP image of at most maxPixels pixels. Nothing is decoded, so a
// small file that claims a huge size (a decompression bomb) costs nothing.
// Errors are 400 *Error values.
func ParseImage(data []byte, maxPixels int) (*Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, BadRequest("invalid_image", fmt.Sprintf("the image is not a readable JPEG, PNG or WebP image: %v", err))
	}
	if !imageFormats[format] {
		return nil, BadRequest("unsupported_image_format", fmt.Sprintf("image format %q is not accepted (want JPEG, PNG or WebP)", format))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, BadRequest("invalid_image", fmt.Sprintf("the image claims a size of %dx%d", cfg.Width, cfg.Height))
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, BadRequest("image_too_large", fmt.Sprintf("the image is %dx%d, over the limit of %d pixels", cfg.Width, cfg.Height, maxPixels))
	}
	return &Image{Format: format, Width: cfg.Width, Height: cfg.Height, Data: data}, nil
}

// Decode decodes im.Data into im.Pixels, checking that the pixels match the
// header ParseImage read. Errors are 400 *Error values.
func (im *Image) Decode() error {
	img, format, err := image.Decode(bytes.NewReader(im.Data))
	if err != nil {
		return BadRequest("invalid_image", fmt.Sprintf("the %s image does not decode: %v", im.Format, err))
	}
	if b := img.Bounds(); format != im.Format || b.Dx() != im.Width || b.Dy() != im.Height {
		return BadRequest("invalid_image", fmt.Sprintf("the image decodes as a %dx%d %s, but its header says %dx%d %s",
			b.Dx(), b.Dy(), format, im.Width, im.Height, im.Format))
	}
	im.Pixels = img
	return nil
}
