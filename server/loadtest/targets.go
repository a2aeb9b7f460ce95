package loadtest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/mobile-mm-llm/mobile-mm-llm/server"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/openai"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Kind names one of the requests the generator sends.
type Kind string

// The request kinds. All but Sampled decode greedily, as the deployment
// guide's captions do. Caption and Chat are never answered from the cache:
// each request's image carries a unique tag in metadata (a PNG tEXt chunk
// or a JPEG comment) that the cache key sees and the pixels do not, so the
// engine does the same work every time.
const (
	// Caption is POST /v1/inference, a greedy caption of a unique image.
	Caption Kind = "caption"
	// Cached is POST /v1/inference, the same greedy caption request every
	// time: a cache hit after the first when the server has a cache.
	Cached Kind = "cached"
	// Sampled is POST /v1/inference, the same caption with temperature
	// 0.7: never cached, and it measures the sampler.
	Sampled Kind = "sampled"
	// Chat is POST /v1/chat/completions, a unique image and a question,
	// greedy.
	Chat Kind = "chat"
)

// Kinds lists every request kind.
func Kinds() []Kind { return []Kind{Caption, Cached, Sampled, Chat} }

// ParseKinds parses a list of kind names (see Kinds); duplicates are kept,
// so "caption,caption,chat" sends two captions per chat.
func ParseKinds(names []string) ([]Kind, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("loadtest: no targets (want some of %v)", Kinds())
	}
	out := make([]Kind, 0, len(names))
	for _, n := range names {
		k := Kind(strings.TrimSpace(n))
		switch k {
		case Caption, Cached, Sampled, Chat:
			out = append(out, k)
		default:
			return nil, fmt.Errorf("loadtest: unknown target %q (want one of %v)", n, Kinds())
		}
	}
	return out, nil
}

// samplingTemperature is the Sampled kind's.
const samplingTemperature = 0.7

// imagePlaceholder stands for the image's data URI in a body template.
const imagePlaceholder = "@loadtest-image@"

// template is one kind's request: a fixed body, or one whose image is
// made unique per request (body = prefix + data URI + suffix).
type template struct {
	url            string
	body           []byte
	prefix, suffix []byte
}

// newTargeter returns a targeter cycling through cfg.Targets.
func newTargeter(cfg Config) (vegeta.Targeter, error) {
	img := cfg.Image
	if img == nil {
		var err error
		if img, err = SamplePNG(64, 64); err != nil {
			return nil, err
		}
	}
	tagger, err := newTagger(img)
	if err != nil {
		return nil, err
	}
	tmpls, err := templates(cfg, tagger.dataURI(nil))
	if err != nil {
		return nil, err
	}
	header := http.Header{"Content-Type": []string{"application/json"}}
	if cfg.Token != "" {
		header.Set("Authorization", "Bearer "+cfg.Token)
	}
	var next atomic.Uint64
	return func(t *vegeta.Target) error {
		if t == nil {
			return vegeta.ErrNilTarget
		}
		n := next.Add(1) - 1
		tm := tmpls[n%uint64(len(tmpls))]
		body := tm.body
		if body == nil {
			uri := tagger.dataURI(strconv.AppendUint(nil, n, 10))
			body = make([]byte, 0, len(tm.prefix)+len(uri)+len(tm.suffix))
			body = append(append(append(body, tm.prefix...), uri...), tm.suffix...)
		}
		*t = vegeta.Target{Method: http.MethodPost, URL: tm.url, Body: body, Header: header}
		return nil
	}, nil
}

// templates builds each kind's request; fixedURI is the untagged image.
func templates(cfg Config, fixedURI string) ([]template, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	maxTokens, temp, seed := cfg.MaxTokens, float32(samplingTemperature), int64(1)
	greedy := api.SamplingParams{MaxTokens: &maxTokens}
	caption := func(uri string, s api.SamplingParams) server.InferenceRequest {
		return server.InferenceRequest{Model: cfg.Model, Task: string(api.TaskCaption), Image: uri, SamplingParams: s}
	}
	out := make([]template, 0, len(cfg.Targets))
	for _, k := range cfg.Targets {
		tm := template{url: base + "/v1/inference"}
		var body any
		switch k {
		case Caption:
			body = caption(imagePlaceholder, greedy)
		case Cached:
			body = caption(fixedURI, greedy)
		case Sampled:
			body = caption(fixedURI, api.SamplingParams{MaxTokens: &maxTokens, Temperature: &temp, Seed: &seed})
		case Chat:
			tm.url = base + "/v1/chat/completions"
			body = openai.ChatCompletionRequest{Model: cfg.Model, SamplingParams: greedy,
				Messages: []openai.ChatMessage{{Role: "user", Content: openai.Content{
					{Type: "image_url", ImageURL: &openai.ImageURL{URL: imagePlaceholder}},
					{Type: "text", Text: "What is in this image?"},
				}}}}
		default:
			return nil, fmt.Errorf("loadtest: unknown target %q", k)
		}
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("loadtest: encoding the %s request: %w", k, err)
		}
		if before, after, ok := bytes.Cut(raw, []byte(imagePlaceholder)); ok {
			tm.prefix, tm.suffix = before, after
		} else {
			tm.body = raw
		}
		out = append(out, tm)
	}
	return out, nil
}

// tagger writes a tag into an image's metadata, leaving its pixels alone.
type tagger struct {
	mime string
	// head and tail surround the inserted metadata.
	head, tail []byte
	// run makes tags unique across runs, so a cache filled by an earlier
	// run never answers this one.
	run string
	// insert returns the metadata segment carrying tag.
	insert func(tag []byte) []byte
}

const pngSignature = "\x89PNG\r\n\x1a\n"

// newTagger prepares img, a PNG or JPEG, for tagging.
func newTagger(img []byte) (*tagger, error) {
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("loadtest: run nonce: %w", err)
	}
	t := &tagger{mime: http.DetectContentType(img), run: hex.EncodeToString(nonce[:])}
	switch t.mime {
	case "image/png":
		// The signature, then IHDR (length, type, 13 bytes, CRC); a tEXt
		// chunk may follow it.
		const ihdrEnd = 8 + 4 + 4 + 13 + 4
		if len(img) < ihdrEnd || string(img[:8]) != pngSignature || string(img[12:16]) != "IHDR" {
			return nil, fmt.Errorf("loadtest: the PNG image has no IHDR chunk first")
		}
		t.head, t.tail, t.insert = img[:ihdrEnd], img[ihdrEnd:], pngText
	case "image/jpeg":
		// After the SOI marker, a COM segment.
		t.head, t.tail, t.insert = img[:2], img[2:], jpegComment
	default:
		return nil, fmt.Errorf("loadtest: the image is %s, want a PNG or JPEG", t.mime)
	}
	return t, nil
}

// dataURI returns the image as a data URI, tagged with the run and tag
// unless tag is nil.
func (t *tagger) dataURI(tag []byte) string {
	img := append([]byte(nil), t.head...)
	if tag != nil {
		img = append(img, t.insert(append([]byte(t.run+"-"), tag...))...)
	}
	img = append(img, t.tail...)
	return "data:" + t.mime + ";base64," + base64.StdEncoding.EncodeToString(img)
}

// pngText returns a PNG tEXt chunk with keyword "loadtest" and text tag.
func pngText(tag []byte) []byte {
	data := append([]byte("loadtest\x00"), tag...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(append(chunk, "tEXt"...), data...)
	return binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
}

// jpegComment returns a JPEG COM segment holding tag (short: the tags
// this package makes are far under the 64 KiB segment limit).
func jpegComment(tag []byte) []byte {
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xFE}, uint16(len(tag)+2))
	return append(seg, tag...)
}

// SamplePNG returns a w×h PNG of a colour gradient, the image the
// generator sends when none is given.
func SamplePNG(w, h int) ([]byte, error) {
	if w <= 0 || h <= 0 || w > 4096 || h > 4096 {
		return nil, fmt.Errorf("loadtest: sample image size %dx%d out of range 1..4096", w, h)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x * 255 / w), G: uint8(y * 255 / h), B: uint8((x + y) % 256), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("loadtest: encoding the sample PNG: %w", err)
	}
	return buf.Bytes(), nil
}
