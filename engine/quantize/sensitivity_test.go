package quantize

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// only returns a recipe that stores the matrices of class c in f and every
// other matrix in F32.
func only(c string, f quant.Format) Recipe {
	return Recipe{Name: c + "-" + f.String(), Matrix: quant.F32, Rules: []Rule{{Class: c, Format: f}}}
}

// classSizes returns the 2-D tensor classes of in, in file order, with
// their weight counts summed over layers.
func classSizes(in *gguf.File) ([]string, map[string]int64) {
	var order []string
	size := map[string]int64{}
	for _, t := range in.Tensors() {
		if len(t.Dims) != 2 {
			continue
		}
		c := Class(t.Name)
		if _, ok := size[c]; !ok {
			order = append(order, c)
		}
		size[c] += int64(t.Elements())
	}
	return order, size
}

// TestInt2RecipeFollowsMeasurement measures, on the tiny F32 llama fixture
// and golden prompts 1..3, how much each tensor class moves the
// last-position logits when it alone is quantized, and checks that the
// int2 recipe is what the decision rules of docs/quantization.md make of
// those numbers. Run with -v to print the tables of the doc:
//
//	go test ./engine/quantize/ -run TestInt2RecipeFollowsMeasurement -v
func TestInt2RecipeFollowsMeasurement(t *testing.T) {
	in := openFixture(t)
	ref := lastLogits(t, in, prompts)
	measure := func(r Recipe) (drift, *Summary) {
		f, sum := convert(t, in, r)
		return compareLogits(ref, lastLogits(t, f, prompts)), sum
	}
	row := func(label string, d drift, extra string) {
		t.Logf("| %s | %.4f | %.5f | %d/%d |%s", label, d.RMS, d.KL, d.Top1, d.Count, extra)
	}

	// The floor: every matrix at Int8, which also quantizes the activations
	// of every product to Q8.
	floor, _ := measure(Recipes()[2])
	require.Equal(t, "int8", Recipes()[2].Name)

	// Embedding table / tied output head alone.
	t.Log("| token_embd.weight alone | logit RMS diff | KL (nats) | top-1 kept |")
	t.Log("|---|---|---|---|")
	embKL := map[quant.Format]float64{}
	for _, f := range []quant.Format{quant.Int8, quant.Int4, quant.Int2} {
		d, _ := measure(only("token_embd.weight", f))
		embKL[f] = d.KL
		row(f.String(), d, "")
	}
	row("all matrices int8 (floor)", floor, "")
	// Rule: the smallest format whose drift alone stays within twice the
	// floor that Q8 activations set anyway.
	var embChoice quant.Format
	for _, f := range []quant.Format{quant.Int2, quant.Int4, quant.Int8} {
		if embKL[f] <= 2*floor.KL {
			embChoice = f
			break
		}
	}
	require.NotZero(t, embChoice, "no embedding format within twice the int8 floor")
	require.Equal(t, Int2EmbeddingFormat, embChoice)

	// Layer classes alone at Int2 and at Int4.
	classes, size := classSizes(in)
	t.Log("| class alone | weights | RMS int2 | KL int2 | top-1 int2 | KL int4 | KL saved per extra kbit |")
	t.Log("|---|---|---|---|---|---|---|")
	perBit := map[string]float64{}
	best := 0.0
	for _, c := range classes {
		if c == "token_embd.weight" || c == "output.weight" {
			continue
		}
		d2, _ := measure(only(c, quant.Int2))
		d4, _ := measure(only(c, quant.Int4))
		require.Greater(t, d2.KL, d4.KL, "class %s: int2 should move the logits more than int4", c)
		perBit[c] = (d2.KL - d4.KL) / float64(2*size[c]) * 1000
		best = max(best, perBit[c])
		t.Logf("| %s | %d | %.4f | %.5f | %d/%d | %.5f | %.5f |", c, size[c], d2.RMS, d2.KL, d2.Top1, d2.Count, d4.KL, perBit[c])
	}
	// Rule: keep at Int4 every class that saves at least half as much
	// divergence per extra bit as the best one.
	var kept []string
	for _, c := range classes {
		if v, ok := perBit[c]; ok && v >= best/2 {
			kept = append(kept, c)
		}
	}
	require.ElementsMatch(t, int2KeptClasses, kept)

	// The recipes, and the int2 variants the rules rejected.
	int2 := Recipes()[0]
	require.Equal(t, "int2", int2.Name)
	noKept := Recipe{Name: "int2-nokept", Matrix: quant.Int2, Rules: int2.Rules[:3]}
	emb4 := Recipe{Name: "int2-emb4", Matrix: quant.Int2, Rules: slices.Clone(int2.Rules)}
	for i := range 3 {
		emb4.Rules[i].Format = quant.Int4
	}
	t.Log("| recipe | logit RMS diff | KL (nats) | top-1 kept | bits per weight |")
	t.Log("|---|---|---|---|---|")
	var kls []float64
	for _, r := range []Recipe{Recipes()[2], Recipes()[1], int2, noKept, emb4} {
		d, sum := measure(r)
		kls = append(kls, d.KL)
		row(r.Name, d, fmt.Sprintf(" %.3f |", sum.BitsPerWeight))
	}
	require.Less(t, kls[0], kls[1], "int8 should beat int4")
	require.Less(t, kls[1], kls[2], "int4 should beat int2")
	require.Less(t, kls[2], kls[3], "keeping %s at int4 should help", strings.Join(int2KeptClasses, ", "))
}
