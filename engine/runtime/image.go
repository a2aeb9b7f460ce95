package runtime

import (
	"context"
	"fmt"
	"image"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/tokenizer"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/vision"
)

// imagePath turns an image into prompt segments: the vision encoder's
// embeddings for each tile and the global view, between the format tokens
// of the model's template.
type imagePath struct {
	enc  *vision.Encoder
	tmpl *vision.Template
}

func newImagePath(mmproj *gguf.File, tok *tokenizer.Tokenizer, dim int) (*imagePath, error) {
	enc, err := vision.Load(mmproj)
	if err != nil {
		return nil, err
	}
	if enc.Config.ProjDim != dim {
		return nil, fmt.Errorf("%s: the projector makes %d-wide embeddings, the text model takes %d",
			mmproj.Name(), enc.Config.ProjDim, dim)
	}
	tmpl, err := vision.NewTemplate(tok)
	if err != nil {
		return nil, err
	}
	return &imagePath{enc: enc, tmpl: tmpl}, nil
}

func (ip *imagePath) segments(ctx context.Context, pool *kernels.Pool, img image.Image) ([]segment, error) {
	batch, err := ip.enc.Preprocess(img)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	embs, err := ip.enc.Encode(ctx, pool, batch)
	if err != nil {
		return nil, err
	}
	tpi := ip.enc.Config.TokensPerImage()
	layout, err := ip.tmpl.Layout(vision.MediaMarker, []vision.Grid{batch.Grid}, tpi, false, true)
	if err != nil {
		return nil, err
	}
	dim := ip.enc.Config.ProjDim
	var segs []segment
	for _, c := range layout.Chunks {
		if !c.IsImage() {
			segs = append(segs, segment{ids: c.Tokens})
			continue
		}
		e := embs[c.Image]
		rows := make([][]float32, tpi)
		for i := range rows {
			rows[i] = e[i*dim : (i+1)*dim]
		}
		segs = append(segs, segment{embd: rows})
	}
	return segs, nil
}
