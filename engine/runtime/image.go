package runtime

import (
	"context"
	"errors"
	"image"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/tokenizer"
)

// imagePath encodes images into prompt segments.
type imagePath struct{}

func newImagePath(mmproj *gguf.File, tok *tokenizer.Tokenizer, dim int) (*imagePath, error) {
	return nil, errors.New("vision projectors are not supported yet")
}

func (ip *imagePath) segments(ctx context.Context, pool *kernels.Pool, img image.Image) ([]segment, error) {
	return nil, errors.New("vision projectors are not supported yet")
}
