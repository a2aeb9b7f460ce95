package quantize

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
)

// Summary describes a finished conversion. Its JSON form is the
// machine-readable summary of `mmllm quantize --json`.
type Summary struct {
	Input  string `json:"input,omitempty"`
	Output string `json:"output,omitempty"`
	Recipe string `json:"recipe"`
	// Tensors lists every tensor in file order.
	Tensors []TensorSummary `json:"tensors"`
	// Params is the number of weights in all tensors. Each tensor is counted
	// once: a model with tied embeddings has no separate output head, so its
	// embedding table is not counted twice.
	Params int64 `json:"params"`
	// BytesIn and BytesOut are the tensor data sizes before and after,
	// alignment padding excluded.
	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`
	// BitsPerWeightIn and BitsPerWeight are 8·bytes/Params before and after.
	BitsPerWeightIn float64 `json:"bits_per_weight_in"`
	BitsPerWeight   float64 `json:"bits_per_weight"`
	// TiedEmbeddings is true when the model has token_embd.weight and no
	// output.weight, so the embedding table is also the output head.
	TiedEmbeddings bool `json:"tied_embeddings"`
}

// TensorSummary describes one converted tensor.
type TensorSummary struct {
	Name          string   `json:"name"`
	Dims          []uint64 `json:"dims"` // ne0 first, as in the file
	In            string   `json:"type_in"`
	Out           string   `json:"type_out"`
	Params        int64    `json:"params"`
	Bytes         int64    `json:"bytes"` // in the output
	BitsPerWeight float64  `json:"bits_per_weight"`
	// RelRMSE is the RMS of (output - input) weights divided by the RMS of
	// the input weights; 0 for tensors copied or stored exactly.
	RelRMSE float64 `json:"rel_rmse"`
	Note    string  `json:"note,omitempty"`
}

// newSummary fills everything but the errors from the plans.
func newSummary(in *gguf.File, r Recipe, plans []TensorPlan) *Summary {
	s := &Summary{Recipe: r.Name, Tensors: make([]TensorSummary, len(plans))}
	for i, p := range plans {
		info, _ := in.Tensor(p.Name)
		outBytes, _ := gguf.TensorBytes(p.Out, p.Dims) // Plan chose types that fit the dims
		n := int64(info.Elements())
		s.Tensors[i] = TensorSummary{
			Name: p.Name, Dims: p.Dims, In: p.In.String(), Out: p.Out.String(),
			Params: n, Bytes: int64(outBytes), BitsPerWeight: bitsPerWeight(int64(outBytes), n), Note: p.Note,
		}
		s.Params += n
		s.BytesIn += int64(info.Size)
		s.BytesOut += int64(outBytes)
	}
	s.BitsPerWeightIn = bitsPerWeight(s.BytesIn, s.Params)
	s.BitsPerWeight = bitsPerWeight(s.BytesOut, s.Params)
	_, hasEmbd := in.Tensor("token_embd.weight")
	_, hasOutput := in.Tensor("output.weight")
	s.TiedEmbeddings = hasEmbd && !hasOutput
	return s
}

func bitsPerWeight(bytes, params int64) float64 {
	if params == 0 {
		return 0
	}
	return 8 * float64(bytes) / float64(params)
}

// WriteText writes the summary as a table, one tensor a line, followed by
// the totals.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "TENSOR\tSHAPE\tTYPE\tBPW\tREL RMSE\tNOTE\n")
	for _, t := range s.Tensors {
		fmt.Fprintf(tw, "%s\t%s\t%s → %s\t%.2f\t%.2f%%\t%s\n",
			t.Name, shape(t.Dims), t.In, t.Out, t.BitsPerWeight, 100*t.RelRMSE, t.Note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	tied := ""
	if s.TiedEmbeddings {
		tied = " (tied embeddings: the output head is token_embd, counted once)"
	}
	_, err := fmt.Fprintf(w, "recipe %s: %d tensors, %d parameters%s\n%s → %s, %.2f → %.2f bits per weight\n",
		s.Recipe, len(s.Tensors), s.Params, tied, bytesText(s.BytesIn), bytesText(s.BytesOut),
		s.BitsPerWeightIn, s.BitsPerWeight)
	return err
}

// shape formats dims ne0 first, as GGUF stores them: "64×50257".
func shape(dims []uint64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, "×")
}

// bytesText formats a byte count with a binary unit.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGT"[i])
}
