package quantize

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// Metadata keys this package writes besides the copied ones.
const (
	// FileTypeKey is llama.cpp's key for the file's predominant type; see
	// FileType for the values written.
	FileTypeKey = "general.file_type"
	// RecipeKey holds the recipe's name ("int2", "int4", "int8").
	RecipeKey = "mmllm.quantization.recipe"
	// MethodKey holds how the scales were chosen ("search").
	MethodKey = "mmllm.quantization.method"
)

// keyPrefix marks the keys this package owns; a source file's keys with it
// are replaced, not copied.
const keyPrefix = "mmllm.quantization."

// FileType returns the general.file_type value written for a recipe whose
// matrices are mostly in format f: llama.cpp's own values for F32 (0) and
// F16 (1), and for the engine's formats 1024 plus the format, the same
// numbers as their tensor type ids (1026 int8, 1027 int4, 1028 int2),
// outside llama.cpp's range so no tool takes them for one of its types.
func FileType(f quant.Format) uint32 {
	switch f {
	case quant.F32:
		return 0
	case quant.F16:
		return 1
	}
	return 1024 + uint32(f)
}

// Progress reports how far a conversion is, in weights.
type Progress struct {
	Tensor string // the tensor being converted
	Done   int64  // weights converted so far, in the whole file
	Total  int64  // weights in the whole file
}

// Options configures a conversion.
type Options struct {
	// Recipe decides each tensor's type.
	Recipe Recipe
	// Threads quantizes the rows of a tensor in parallel; 0 means GOMAXPROCS.
	Threads int
	// Progress, if not nil, is called from the writing goroutine as tensors
	// are converted.
	Progress func(Progress)
}

// Write converts every tensor of in as opt.Recipe plans and writes the
// resulting GGUF file to out: all metadata is copied except
// general.file_type, which FileType sets, and the mmllm.quantization.* keys,
// which record the recipe and method. Tensors are converted one chunk of
// rows at a time while being written, so only the mapped input and a few
// MiB of scratch space are held. Quantized tensors use quant's Search
// method. A NaN or infinite weight fails the conversion, naming the tensor,
// row and column.
func Write(ctx context.Context, in *gguf.File, out io.Writer, opt Options) (*Summary, error) {
	infos := in.Tensors()
	plans, err := opt.Recipe.Plan(infos)
	if err != nil {
		return nil, err
	}
	w := gguf.NewWriter()
	if err := copyMetadata(w, in, opt.Recipe); err != nil {
		return nil, err
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	sum := newSummary(in, opt.Recipe, plans)
	var done int64
	jobs := make([]*tensorJob, len(plans))
	for i, p := range plans {
		data, err := in.TensorData(p.Name)
		if err != nil {
			return nil, fmt.Errorf("quantize: %w", err)
		}
		j := &tensorJob{plan: p, src: data, threads: threads}
		j.progress = func(n int64) error {
			done += n
			if opt.Progress != nil {
				opt.Progress(Progress{Tensor: p.Name, Done: done, Total: sum.Params})
			}
			return ctx.Err()
		}
		jobs[i] = j
		if err := w.AddTensorFunc(p.Name, p.Dims, p.Out, j.write); err != nil {
			return nil, fmt.Errorf("quantize: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	if _, err := w.WriteTo(out); err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	for i, j := range jobs {
		sum.Tensors[i].RelRMSE = relRMSE(j.sqErr, j.sqNorm)
	}
	return sum, nil
}

// relRMSE returns sqrt(sqErr/sqNorm), the error relative to the tensor's
// RMS value; an all-zero tensor, which every format stores exactly, has 0.
func relRMSE(sqErr, sqNorm float64) float64 {
	if sqNorm == 0 {
		return 0
	}
	return math.Sqrt(sqErr / sqNorm)
}

// copyMetadata copies in's metadata to w, setting general.file_type and the
// mmllm.quantization.* keys for recipe r.
func copyMetadata(w *gguf.Writer, in *gguf.File, r Recipe) error {
	fileType, err := gguf.NewValue(FileType(r.Matrix))
	if err != nil {
		return fmt.Errorf("quantize: %w", err)
	}
	sawFileType := false
	for _, kv := range in.Metadata() {
		v := kv.Value
		switch {
		case strings.HasPrefix(kv.Key, keyPrefix):
			continue
		case kv.Key == FileTypeKey:
			v, sawFileType = fileType, true
		}
		if err := w.Add(kv.Key, v); err != nil {
			return fmt.Errorf("quantize: copying metadata: %w", err)
		}
	}
	add := []gguf.KV{{Key: RecipeKey}, {Key: MethodKey}}
	if !sawFileType {
		add = append(add, gguf.KV{Key: FileTypeKey, Value: fileType})
	}
	for i, s := range []string{r.Name, quant.Search.String()} {
		if add[i].Value, err = gguf.NewValue(s); err != nil {
			return fmt.Errorf("quantize: %w", err)
		}
	}
	for _, kv := range add {
		if err := w.Add(kv.Key, kv.Value); err != nil {
			return fmt.Errorf("quantize: %w", err)
		}
	}
	return nil
}

// QuantizeFile converts the GGUF file inPath into outPath (see Write). The
// output is written to a temporary file in outPath's directory and renamed
// into place only when complete, so a failed or interrupted run leaves no
// partial outPath (an existing outPath is then untouched). outPath must not
// name the input file.
func QuantizeFile(ctx context.Context, inPath, outPath string, opt Options) (*Summary, error) {
	if err := checkPaths(inPath, outPath); err != nil {
		return nil, err
	}
	in, err := gguf.Open(inPath)
	if err != nil {
		return nil, fmt.Errorf("quantize: reading input: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(outPath), "."+filepath.Base(outPath)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("quantize: creating output: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	sum, err := Write(ctx, in, tmp, opt)
	if err != nil {
		return nil, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("quantize: closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), outPath); err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	keep = true
	sum.Input, sum.Output = inPath, outPath
	return sum, nil
}

// checkPaths rejects a missing input, an output that is the input, and an
// output that is a directory.
func checkPaths(inPath, outPath string) error {
	if inPath == "" || outPath == "" {
		return errors.New("quantize: input and output paths must not be empty")
	}
	inSt, err := os.Stat(inPath)
	if err != nil {
		return fmt.Errorf("quantize: input: %w", err)
	}
	if inSt.IsDir() {
		return fmt.Errorf("quantize: input %s is a directory", inPath)
	}
	absIn, errIn := filepath.Abs(inPath)
	absOut, errOut := filepath.Abs(outPath)
	if errIn == nil && errOut == nil && absIn == absOut {
		return fmt.Errorf("quantize: output %s is the input file", outPath)
	}
	outSt, err := os.Stat(outPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("quantize: output: %w", err)
	case outSt.IsDir():
		return fmt.Errorf("quantize: output %s is a directory", outPath)
	case os.SameFile(inSt, outSt):
		return fmt.Errorf("quantize: output %s is the input file %s", outPath, inPath)
	}
	return nil
}
