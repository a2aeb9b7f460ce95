package vision

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/tokenizer"
)

// MediaMarker stands for one image in a prompt (llama.cpp's default media
// marker); BuildLayout replaces each by the tokens and embeddings of one
// image.
const MediaMarker = "<__media__>"

// Token texts of the Idefics3 chat format, found in the vocabulary by their
// decoded bytes as llama.cpp's mtmd does.
const (
	textFakeToken = "<fake_token_around_image>"
	textGlobalImg = "<global-img>"
	textRowEnd    = "\n"
	textOverview  = "\n\n"
	tileTokenFmt  = textFakeToken + "<row_%d_col_%d>" // tokenized with special tokens parsed
)

// Chunk is a run of consecutive positions of a multimodal prompt: text
// tokens, or the embeddings of one encoded image (a tile or a global view).
type Chunk struct {
	Tokens []int32 // the token ids of a text chunk; nil for an image chunk
	Media  int     // image chunk: which image of the prompt (marker order); -1 for text
	Image  int     // image chunk: index in that image's Batch.Images and Encode output; -1 for text
	Len    int     // positions: len(Tokens), or the tokens per image
}

// IsImage reports whether the chunk holds image embeddings.
func (c Chunk) IsImage() bool { return c.Media >= 0 }

// Layout is a tokenized multimodal prompt: its chunks in position order.
// Adjacent text is merged into one chunk, as in llama.cpp.
type Layout struct {
	Chunks []Chunk
}

// Positions returns the number of positions the prompt takes.
func (l *Layout) Positions() int {
	n := 0
	for _, c := range l.Chunks {
		n += c.Len
	}
	return n
}

// Sequence returns one entry per position: the token id of a text
// position, -1 for an image-embedding slot.
func (l *Layout) Sequence() []int32 {
	seq := make([]int32, 0, l.Positions())
	for _, c := range l.Chunks {
		if c.IsImage() {
			for range c.Len {
				seq = append(seq, -1)
			}
			continue
		}
		seq = append(seq, c.Tokens...)
	}
	return seq
}

// Template lays out prompts in the Idefics3 (SmolVLM) format for one
// vocabulary. Each image becomes, for a Rows×Cols grid of tiles,
//
//	<fake_token_around_image><row_1_col_1> (tile) <fake_token_around_image><row_1_col_2> (tile) ...
//	"\n" after every row but the last, then
//	"\n\n" <fake_token_around_image><global-img> (global view) <fake_token_around_image>
//
// exactly as llama.cpp's mtmd_tokenize does (an image without tiles is its
// global-view part alone).
type Template struct {
	tok      *tokenizer.Tokenizer
	rowEnd   []int32
	ovStart  []int32
	ovEnd    []int32
	bos, eos []int32 // what the vocabulary adds around a prompt (add_bos / add_eos)
}

// NewTemplate finds the format's tokens in the vocabulary; it fails if one
// is missing.
func NewTemplate(tok *tokenizer.Tokenizer) (*Template, error) {
	find := func(texts ...string) ([]int32, error) {
		ids := make([]int32, len(texts))
		for i, text := range texts {
			id, ok := lookupPiece(tok, text)
			if !ok {
				return nil, fmt.Errorf("vision: the vocabulary has no token %q, which the idefics3 image format needs", text)
			}
			ids[i] = id
		}
		return ids, nil
	}
	t := &Template{tok: tok}
	var err error
	if t.rowEnd, err = find(textRowEnd); err != nil {
		return nil, err
	}
	if t.ovStart, err = find(textOverview, textFakeToken, textGlobalImg); err != nil {
		return nil, err
	}
	t.ovEnd = t.ovStart[1:2]
	if t.bos, t.eos, err = specialAdds(tok); err != nil {
		return nil, err
	}
	return t, nil
}

// lookupPiece returns the lowest id whose decoded bytes are text, as
// llama.cpp's mtmd finds its format tokens.
func lookupPiece(tok *tokenizer.Tokenizer, text string) (int32, bool) {
	for id := range int32(tok.NumTokens()) {
		if bytes.Equal(tok.Piece(id), []byte(text)) {
			return id, true
		}
	}
	return 0, false
}

// specialAdds returns the tokens the vocabulary adds before and after a
// text when special tokens are added (BOS, EOS), by tokenizing a probe
// with and without them.
func specialAdds(tok *tokenizer.Tokenizer) (bos, eos []int32, err error) {
	const probe = "a"
	plain, err := tok.Encode(probe, false, false)
	if err != nil {
		return nil, nil, fmt.Errorf("vision: tokenizing a probe: %w", err)
	}
	full, err := tok.Encode(probe, true, false)
	if err != nil {
		return nil, nil, fmt.Errorf("vision: tokenizing a probe: %w", err)
	}
	for k := 0; k+len(plain) <= len(full); k++ {
		if slices.Equal(full[k:k+len(plain)], plain) {
			return full[:k], full[k+len(plain):], nil
		}
	}
	return nil, nil, fmt.Errorf("vision: the tokenizer's special tokens do not surround its text (%v around %v)", full, plain)
}

// Layout tokenizes prompt, replacing its i-th MediaMarker by image i with
// tile grid grids[i] (Batch.Grid) and tokensPerImage embeddings per tile
// or global view (Encoder.TokensPerImage). Text is tokenized as
// tokenizer.Encode does with parseSpecial; addSpecial puts the
// vocabulary's BOS first and EOS last where it asks for them.
func (t *Template) Layout(prompt string, grids []Grid, tokensPerImage int, addSpecial, parseSpecial bool) (*Layout, error) {
	if n := strings.Count(prompt, MediaMarker); n != len(grids) {
		return nil, fmt.Errorf("vision: the prompt has %d media markers %q for %d images", n, MediaMarker, len(grids))
	}
	if tokensPerImage <= 0 {
		return nil, fmt.Errorf("vision: %d tokens per image", tokensPerImage)
	}
	l := &Layout{}
	if addSpecial {
		l.addText(t.bos)
	}
	for media, text := range strings.Split(prompt, MediaMarker) {
		ids, err := t.tok.Encode(text, false, parseSpecial)
		if err != nil {
			return nil, fmt.Errorf("vision: tokenizing the prompt: %w", err)
		}
		l.addText(ids)
		if media == len(grids) {
			break
		}
		if err := t.addImage(l, media, grids[media], tokensPerImage); err != nil {
			return nil, err
		}
	}
	if addSpecial {
		l.addText(t.eos)
	}
	return l, nil
}

// addImage appends the chunks of one image: its tiles, then its global view.
func (t *Template) addImage(l *Layout, media int, g Grid, n int) error {
	if g.Rows < 0 || g.Cols < 0 || (g.Rows == 0) != (g.Cols == 0) {
		return fmt.Errorf("vision: image %d: bad tile grid %d×%d", media, g.Rows, g.Cols)
	}
	for r := range g.Rows {
		for c := range g.Cols {
			ids, err := t.tok.Encode(fmt.Sprintf(tileTokenFmt, r+1, c+1), false, true)
			if err != nil {
				return fmt.Errorf("vision: tokenizing the tile tokens: %w", err)
			}
			l.addText(ids)
			l.Chunks = append(l.Chunks, Chunk{Media: media, Image: r*g.Cols + c, Len: n})
		}
		if r < g.Rows-1 {
			l.addText(t.rowEnd)
		}
	}
	l.addText(t.ovStart)
	l.Chunks = append(l.Chunks, Chunk{Media: media, Image: g.Tiles(), Len: n})
	l.addText(t.ovEnd)
	return nil
}

// addText appends tokens, merging them into a preceding text chunk.
func (l *Layout) addText(ids []int32) {
	if len(ids) == 0 {
		return
	}
	if k := len(l.Chunks) - 1; k >= 0 && !l.Chunks[k].IsImage() {
		l.Chunks[k].Tokens = append(l.Chunks[k].Tokens, ids...)
		l.Chunks[k].Len += len(ids)
		return
	}
	l.Chunks = append(l.Chunks, Chunk{Tokens: slices.Clone(ids), Media: -1, Image: -1, Len: len(ids)})
}

// Sink consumes a prompt position by position; decoder.State is one.
type Sink interface {
	DecodeToken(ctx context.Context, p *kernels.Pool, token int, logits bool) error
	DecodeEmbedding(ctx context.Context, p *kernels.Pool, embd []float32, logits bool) error
}

// Decode feeds the prompt to s in position order: text tokens as tokens,
// image slots as embeddings, where embeddings[m] is Encode's output for
// image m. Logits are asked for at the last position only.
func (l *Layout) Decode(ctx context.Context, p *kernels.Pool, s Sink, embeddings [][][]float32) error {
	last := l.Positions() - 1
	pos := 0
	for ci, c := range l.Chunks {
		if !c.IsImage() {
			for _, id := range c.Tokens {
				if err := s.DecodeToken(ctx, p, int(id), pos == last); err != nil {
					return fmt.Errorf("vision: position %d (token %d): %w", pos, id, err)
				}
				pos++
			}
			continue
		}
		if c.Media >= len(embeddings) || c.Image >= len(embeddings[c.Media]) {
			return fmt.Errorf("vision: chunk %d needs image %d of media %d, which was not given", ci, c.Image, c.Media)
		}
		emb := embeddings[c.Media][c.Image]
		if len(emb) == 0 || len(emb)%c.Len != 0 {
			return fmt.Errorf("vision: chunk %d: %d embedding values for %d positions", ci, len(emb), c.Len)
		}
		dim := len(emb) / c.Len
		for k := range c.Len {
			if err := s.DecodeEmbedding(ctx, p, emb[k*dim:(k+1)*dim], pos == last); err != nil {
				return fmt.Errorf("vision: position %d (image %d of media %d): %w", pos, c.Image, c.Media, err)
			}
			pos++
		}
	}
	return nil
}
