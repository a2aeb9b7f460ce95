package vision

import (
	"errors"
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
)

// ProjectorIdefics3 is the only clip.projector_type this package runs:
// SigLIP with a pixel-shuffle linear projector (SmolVLM, Idefics3).
const ProjectorIdefics3 = "idefics3"

// maxImageSize bounds clip.vision.image_size (published encoders use 224 to
// 512), so that sizes computed from it cannot overflow.
const maxImageSize = 1 << 14

// maxGridSide bounds the tiles per side that clip.vision.preproc_image_size
// may ask for, so a corrupt file cannot make preprocessing allocate without
// bound (published SmolVLM files use at most a handful).
const maxGridSide = 64

// Config is the shape of an Idefics3 vision encoder, read from the clip.*
// keys of an mmproj GGUF file.
type Config struct {
	ImageSize   int        // clip.vision.image_size: side of a tile, in pixels
	PatchSize   int        // clip.vision.patch_size
	Dim         int        // clip.vision.embedding_length
	FFN         int        // clip.vision.feed_forward_length
	Layers      int        // clip.vision.block_count
	Heads       int        // clip.vision.attention.head_count
	Eps         float32    // clip.vision.attention.layer_norm_epsilon
	ScaleFactor int        // clip.vision.projector.scale_factor: patches merged per side
	LongestEdge int        // clip.vision.preproc_image_size; 0 (absent): no tiles, global view only
	Mean, Std   [3]float32 // clip.vision.image_mean, image_std (R, G, B)
	ProjDim     int        // output width (mm.model.fc rows): the text model's embedding length
}

// Side returns the patches per side of a tile.
func (c *Config) Side() int { return c.ImageSize / c.PatchSize }

// Patches returns the patches of a tile.
func (c *Config) Patches() int { return c.Side() * c.Side() }

// TokensPerImage returns the embeddings one tile (or the global view)
// becomes after the pixel shuffle.
func (c *Config) TokensPerImage() int {
	n := c.Side() / c.ScaleFactor
	return n * n
}

// HeadDim returns the width of one attention head.
func (c *Config) HeadDim() int { return c.Dim / c.Heads }

// validate checks the sizes against each other.
func (c *Config) validate() error {
	switch {
	case c.ImageSize <= 0 || c.PatchSize <= 0 || c.Dim <= 0 || c.FFN <= 0 || c.Layers <= 0 ||
		c.Heads <= 0 || c.ScaleFactor <= 0 || c.ProjDim <= 0:
		return fmt.Errorf("a size is not positive: %+v", *c)
	case c.ImageSize > maxImageSize:
		return fmt.Errorf("image_size %d is over %d", c.ImageSize, maxImageSize)
	case c.ImageSize%c.PatchSize != 0:
		return fmt.Errorf("image_size %d is not a multiple of patch_size %d", c.ImageSize, c.PatchSize)
	case c.Side()%c.ScaleFactor != 0:
		return fmt.Errorf("%d patches per side is not a multiple of projector.scale_factor %d", c.Side(), c.ScaleFactor)
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("embedding_length %d is not a multiple of head_count %d", c.Dim, c.Heads)
	case !(c.Eps > 0):
		return fmt.Errorf("layer_norm_epsilon %v is not positive", c.Eps)
	case c.LongestEdge < 0 || c.LongestEdge > maxGridSide*c.ImageSize:
		return fmt.Errorf("preproc_image_size %d is outside [0, %d tiles of %d]", c.LongestEdge, maxGridSide, c.ImageSize)
	}
	for i, s := range c.Std {
		if !(s != 0) {
			return fmt.Errorf("image_std[%d] is %v", i, s)
		}
	}
	return nil
}

// readConfig reads the clip.* keys of an Idefics3 mmproj file (ProjDim is
// filled in from the projector tensor by Load).
func readConfig(f *gguf.File) (Config, error) {
	var c Config
	arch, err := f.String("general.architecture")
	if err != nil {
		return c, err
	}
	if arch != "clip" {
		return c, fmt.Errorf("general.architecture is %q, want \"clip\" (an mmproj file)", arch)
	}
	if has, err := f.Bool("clip.has_vision_encoder"); err != nil || !has {
		return c, fmt.Errorf("clip.has_vision_encoder is not true: the file has no vision encoder (%v)", err)
	}
	proj, err := f.String("clip.projector_type")
	if err != nil {
		return c, err
	}
	if proj != ProjectorIdefics3 {
		return c, fmt.Errorf("clip.projector_type %q is not supported (want %q)", proj, ProjectorIdefics3)
	}
	if gelu, err := f.Bool("clip.use_gelu"); err != nil || !gelu {
		return c, fmt.Errorf("clip.use_gelu is not true: only SigLIP's GELU MLP is supported (%v)", err)
	}
	var errs []error
	u := func(key string, dst *int, required bool) {
		v, err := f.Uint32(key)
		switch {
		case err == nil:
			*dst = int(v)
		case required || !errors.Is(err, gguf.ErrKeyNotFound):
			errs = append(errs, err)
		}
	}
	u("clip.vision.image_size", &c.ImageSize, true)
	u("clip.vision.patch_size", &c.PatchSize, true)
	u("clip.vision.embedding_length", &c.Dim, true)
	u("clip.vision.feed_forward_length", &c.FFN, true)
	u("clip.vision.block_count", &c.Layers, true)
	u("clip.vision.attention.head_count", &c.Heads, true)
	u("clip.vision.projector.scale_factor", &c.ScaleFactor, true)
	u("clip.vision.preproc_image_size", &c.LongestEdge, false)
	if c.Eps, err = f.Float32("clip.vision.attention.layer_norm_epsilon"); err != nil {
		errs = append(errs, err)
	}
	for _, kv := range []struct {
		key string
		dst *[3]float32
	}{{"clip.vision.image_mean", &c.Mean}, {"clip.vision.image_std", &c.Std}} {
		key := kv.key
		v, err := f.Float32s(key)
		if err == nil && len(v) != 3 {
			err = fmt.Errorf("metadata key %q has %d values, want 3 (R, G, B)", key, len(v))
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		copy(kv.dst[:], v)
	}
	return c, errors.Join(errs...)
}
