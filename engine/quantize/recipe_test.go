package quantize

import (
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

func TestClass(t *testing.T) {
	for name, want := range map[string]string{
		"blk.0.attn_q.weight":     "attn_q.weight",
		"blk.29.ffn_down.weight":  "ffn_down.weight",
		"v.blk.11.attn_k.bias":    "v.attn_k.bias",
		"token_embd.weight":       "token_embd.weight",
		"output.weight":           "output.weight",
		"v.position_embd.weight":  "v.position_embd.weight",
		"myblk.3.x":               "myblk.3.x",
		"blk.x.attn_q.weight":     "blk.x.attn_q.weight",
		"mm.model.fc.weight":      "mm.model.fc.weight",
		"v.blk.0.ffn_down.weight": "v.ffn_down.weight",
	} {
		require.Equal(t, want, Class(name), name)
	}
}

func TestRecipeByName(t *testing.T) {
	for _, name := range []string{"int2", "int4", "int8"} {
		r, err := RecipeByName(name)
		require.NoError(t, err)
		require.Equal(t, name, r.Name)
		require.Equal(t, name, r.Matrix.String())
		require.NoError(t, r.Validate())
	}
	_, err := RecipeByName("q4_0")
	require.ErrorContains(t, err, `unknown recipe "q4_0" (want int2, int4, int8)`)

	// Recipes returns fresh values.
	a := Recipes()
	a[0].Rules[0].Format = quant.Int2
	require.Equal(t, Int2EmbeddingFormat, Recipes()[0].Rules[0].Format)
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		r    Recipe
		want string
	}{
		{Recipe{Matrix: quant.Int2}, "no name"},
		{Recipe{Name: "x", Matrix: quant.Format(9)}, "matrix format"},
		{Recipe{Name: "x", Matrix: quant.Int2, Rules: []Rule{{Format: quant.Int4}}}, "a rule has no class"},
		{Recipe{Name: "x", Matrix: quant.Int2, Rules: []Rule{{Class: "a", Format: quant.Format(7)}}}, "class a"},
	} {
		require.ErrorContains(t, c.r.Validate(), c.want)
		_, err := c.r.Plan(nil)
		require.ErrorContains(t, err, c.want)
	}
}

// TestPlan checks each of Plan's cases on tensor infos alone.
func TestPlan(t *testing.T) {
	r := Recipe{Name: "t", Matrix: quant.Int2, Rules: []Rule{
		{Class: "token_embd.weight", Format: quant.Int8, Why: "embedding"},
		{Class: "attn_v.weight", Format: quant.Int4, Why: "sensitive"},
		{Class: "attn_v.weight", Format: quant.Int8, Why: "shadowed by the first rule"},
		{Class: "proj.weight", Format: quant.F16},
	}}
	for _, c := range []struct {
		info gguf.TensorInfo
		out  gguf.Type
		copy bool
		note string
	}{
		{gguf.TensorInfo{Name: "token_embd.weight", Dims: []uint64{64, 100}, Type: gguf.TypeF16}, gguf.TypeInt8, false, "embedding"},
		{gguf.TensorInfo{Name: "blk.3.attn_v.weight", Dims: []uint64{64, 32}, Type: gguf.TypeQ8_0}, gguf.TypeInt4, false, "sensitive"},
		{gguf.TensorInfo{Name: "blk.3.ffn_up.weight", Dims: []uint64{256, 32}, Type: gguf.TypeQ4_K}, gguf.TypeInt2, false, ""},
		{gguf.TensorInfo{Name: "blk.3.ffn_up.weight", Dims: []uint64{64, 32}, Type: gguf.TypeInt2}, gguf.TypeInt2, true, ""},
		{gguf.TensorInfo{Name: "blk.3.ffn_up.weight", Dims: []uint64{64, 32}, Type: gguf.TypeInt8}, gguf.TypeInt2, false, ""},
		{gguf.TensorInfo{Name: "blk.0.attn_norm.weight", Dims: []uint64{64}, Type: gguf.TypeF32}, gguf.TypeF32, true, ""},
		{gguf.TensorInfo{Name: "v.blk.0.attn_q.bias", Dims: []uint64{50}, Type: gguf.TypeF16}, gguf.TypeF32, false, ""},
		{gguf.TensorInfo{Name: "odd.weight", Dims: []uint64{50, 3}, Type: gguf.TypeF16}, gguf.TypeF16, true, "row width 50 is not a multiple of 32: kept"},
		{gguf.TensorInfo{Name: "proj.weight", Dims: []uint64{50, 3}, Type: gguf.TypeF32}, gguf.TypeF16, false, ""},
		{gguf.TensorInfo{Name: "v.patch_embd.weight", Dims: []uint64{8, 8, 3, 32}, Type: gguf.TypeF32}, gguf.TypeF32, true, "4-D tensor: kept"},
		{gguf.TensorInfo{Name: "iq.weight", Dims: []uint64{256, 2}, Type: gguf.TypeIQ2_XXS}, gguf.TypeIQ2_XXS, true, "type iq2_xxs is not decoded here: kept"},
		{gguf.TensorInfo{Name: "ids", Dims: []uint64{4}, Type: gguf.TypeI32}, gguf.TypeI32, true, "type i32 is not decoded here: kept"},
	} {
		plans, err := r.Plan([]gguf.TensorInfo{c.info})
		require.NoError(t, err)
		require.Equal(t, TensorPlan{Name: c.info.Name, Dims: c.info.Dims, In: c.info.Type, Out: c.out, Copy: c.copy, Note: c.note}, plans[0], c.info.Name)
	}
}

func TestFileType(t *testing.T) {
	require.Equal(t, uint32(0), FileType(quant.F32))
	require.Equal(t, uint32(1), FileType(quant.F16))
	for _, f := range []quant.Format{quant.Int8, quant.Int4, quant.Int2} {
		typ, err := gguf.TypeOf(f)
		require.NoError(t, err)
		require.Equal(t, uint32(typ), FileType(f), "file type of %s mirrors its tensor type id", f)
	}
}
