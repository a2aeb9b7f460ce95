// Package infercmd implements `mmllm infer`: one task on one image (or a
// text prompt), the answer streamed to standard output.
package infercmd

import (
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for image.Decode
	_ "image/png"
	"io"
	"os"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/cuda"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/generate"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/runtime"
	"github.com/mobile-mm-llm/mobile-mm-llm/models"
	"github.com/spf13/cobra"
	_ "golang.org/x/image/webp"
)

// Options are the command's flags.
type Options struct {
	Model, MMProj string
	Image         string
	Task          string
	Question      string
	MaxTokens     int
	Temperature   float32
	TopK          int
	TopP          float32
	Seed          uint64
	Threads       int
	Device        string
}

// New returns the `infer` command.
func New() *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "infer",
		Short: "Run one caption, ocr, vqa or chat task and print the answer",
		Example: "  mmllm infer --model M.gguf --mmproj P.gguf --image photo.jpg --task caption\n" +
			"  mmllm infer --model M.gguf --mmproj P.gguf --image doc.png --task vqa --question 'What is the total?'",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return Run(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "text model GGUF (default: the embedded tiny model)")
	f.StringVar(&o.MMProj, "mmproj", "", "vision projector GGUF")
	f.StringVar(&o.Image, "image", "", "image file (JPEG, PNG or WebP)")
	f.StringVar(&o.Task, "task", "caption", "caption, ocr, vqa or chat")
	f.StringVar(&o.Question, "question", "", "the question (vqa), the message (chat) or an instruction (caption, ocr)")
	f.IntVar(&o.MaxTokens, "max-tokens", 128, "most tokens to generate")
	f.Float32Var(&o.Temperature, "temperature", 0, "sampling temperature (0: greedy)")
	f.IntVar(&o.TopK, "top-k", 0, "keep the K most likely tokens (0: all)")
	f.Float32Var(&o.TopP, "top-p", 0, "nucleus sampling mass (0: all)")
	f.Uint64Var(&o.Seed, "seed", 0, "sampling seed")
	f.IntVar(&o.Threads, "threads", 0, "kernel threads (0: all CPUs)")
	f.StringVar(&o.Device, "device", "cpu", "where the decoder runs: cpu, or cuda (falls back to the CPU, saying why, without a usable GPU)")
	return cmd
}

// Run loads the model, runs the task and writes the answer to out.
func Run(ctx context.Context, o *Options, out io.Writer) error {
	req := runtime.Request{Task: runtime.Task(o.Task), Prompt: o.Question,
		Options: generate.Options{MaxTokens: o.MaxTokens,
			Sampler: generate.SamplerOptions{Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP, Seed: o.Seed}}}
	if req.Task == runtime.Chat {
		req.Messages = []runtime.Message{{Role: "user", Text: o.Question}}
	}
	if o.Image != "" {
		img, err := decodeImage(o.Image)
		if err != nil {
			return err
		}
		if req.Task == runtime.Chat {
			req.Messages[0].Images = []image.Image{img}
		} else {
			req.Image = img
		}
	}
	text, mmproj, err := open(o)
	if err != nil {
		return err
	}
	defer text.Close()
	if mmproj != nil {
		defer mmproj.Close()
	}
	dev, err := cuda.Select(o.Device, nil)
	if err != nil {
		return fmt.Errorf("infer: --device: %w", err)
	}
	if dev != nil {
		defer dev.Close()
	}
	rt, err := runtime.Open(text, mmproj, runtime.Options{Threads: o.Threads, Device: dev})
	if err != nil {
		return err
	}
	defer rt.Close()
	if _, err := rt.Generate(ctx, req, func(s string) error {
		_, err := io.WriteString(out, s)
		return err
	}); err != nil {
		return fmt.Errorf("infer: %w", err)
	}
	_, err = fmt.Fprintln(out)
	return err
}

func open(o *Options) (text, mmproj *gguf.File, err error) {
	if o.Model == "" {
		if o.MMProj != "" {
			return nil, nil, errors.New("infer: --mmproj needs --model")
		}
		return models.Default()
	}
	if text, err = gguf.Open(o.Model); err != nil {
		return nil, nil, fmt.Errorf("infer: %w", err)
	}
	if o.MMProj != "" {
		if mmproj, err = gguf.Open(o.MMProj); err != nil {
			text.Close()
			return nil, nil, fmt.Errorf("infer: %w", err)
		}
	}
	return text, mmproj, nil
}

func decodeImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("infer: %s: not a JPEG, PNG or WebP image: %w", path, err)
	}
	return img, nil
}
