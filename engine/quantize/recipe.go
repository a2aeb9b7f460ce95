package quantize

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// Recipe decides the storage type of every tensor of a model: 2-D weight
// matrices get Matrix unless a Rule names their class; 1-D tensors (norms,
// biases) are stored as F32; everything else keeps its type (see Plan).
type Recipe struct {
	// Name identifies the recipe on the command line and in the output
	// file's mmllm.quantization.recipe key.
	Name string
	// Matrix is the format of 2-D weight matrices no rule names.
	Matrix quant.Format
	// Rules override Matrix for tensor classes (see Class); the first rule
	// naming a class wins.
	Rules []Rule
}

// Rule stores every matrix of one tensor class in Format.
type Rule struct {
	// Class is a tensor class as Class returns it, e.g. "token_embd.weight"
	// or "ffn_down.weight" (every layer's ffn_down).
	Class string
	// Format is the storage format of the class's matrices.
	Format quant.Format
	// Why is shown beside the tensors the rule applies to.
	Why string
}

// Int2EmbeddingFormat is the format the int2 recipe keeps embedding tables
// and the output head in; docs/quantization.md records the measurement
// that chose it.
const Int2EmbeddingFormat = quant.Int8

// int2KeptClasses are the layer tensor classes the int2 recipe keeps at
// Int4: those where Int4 instead of Int2 saved the most logit divergence
// per extra bit (see docs/quantization.md).
var int2KeptClasses = []string{"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight"}

// Recipes returns the built-in recipes: int2, int4 and int8. Each call
// returns fresh values the caller may modify.
func Recipes() []Recipe {
	int2 := Recipe{Name: "int2", Matrix: quant.Int2}
	for _, c := range []string{"token_embd.weight", "output.weight", "v.position_embd.weight"} {
		int2.Rules = append(int2.Rules, Rule{Class: c, Format: Int2EmbeddingFormat, Why: "embedding/output head kept at " + Int2EmbeddingFormat.String()})
	}
	for _, c := range int2KeptClasses {
		int2.Rules = append(int2.Rules, Rule{Class: c, Format: quant.Int4, Why: "int2-sensitive: kept at int4"})
	}
	return []Recipe{
		int2,
		{Name: "int4", Matrix: quant.Int4},
		{Name: "int8", Matrix: quant.Int8},
	}
}

// RecipeByName returns the built-in recipe with the given name.
func RecipeByName(name string) (Recipe, error) {
	var names []string
	for _, r := range Recipes() {
		if r.Name == name {
			return r, nil
		}
		names = append(names, r.Name)
	}
	return Recipe{}, fmt.Errorf("quantize: unknown recipe %q (want %s)", name, strings.Join(names, ", "))
}

// Validate checks that the recipe has a name and that its formats are
// formats a tensor can be stored in.
func (r Recipe) Validate() error {
	if r.Name == "" {
		return fmt.Errorf("quantize: recipe has no name")
	}
	if _, err := gguf.TypeOf(r.Matrix); err != nil {
		return fmt.Errorf("quantize: recipe %s: matrix format: %w", r.Name, err)
	}
	for _, rule := range r.Rules {
		if rule.Class == "" {
			return fmt.Errorf("quantize: recipe %s: a rule has no class", r.Name)
		}
		if _, err := gguf.TypeOf(rule.Format); err != nil {
			return fmt.Errorf("quantize: recipe %s: class %s: %w", r.Name, rule.Class, err)
		}
	}
	return nil
}

// blockPart matches the layer index component of a tensor name.
var blockPart = regexp.MustCompile(`(^|\.)blk\.[0-9]+\.`)

// Class returns a tensor's class: its name without the layer index
// component, so every layer's tensor of one kind shares a class:
// "blk.3.ffn_down.weight" → "ffn_down.weight", "v.blk.0.attn_q.weight" →
// "v.attn_q.weight"; names without a layer index are their own class.
func Class(name string) string {
	return blockPart.ReplaceAllString(name, "$1")
}

// matrixFormat returns the format the recipe gives a matrix of class c and
// the rule's reason, if a rule applies.
func (r Recipe) matrixFormat(c string) (quant.Format, string) {
	for _, rule := range r.Rules {
		if rule.Class == c {
			return rule.Format, rule.Why
		}
	}
	return r.Matrix, ""
}

// TensorPlan is what Plan decided for one tensor.
type TensorPlan struct {
	Name string
	Dims []uint64 // ne0 first, as in the file
	In   gguf.Type
	Out  gguf.Type
	// Copy is true when the tensor's bytes are written unchanged: Out is In,
	// because the tensor already has its planned type or must keep its type.
	Copy bool
	// Note says why a tensor was treated specially; empty otherwise.
	Note string
}

// Plan decides each tensor's output type:
//   - a 1-D tensor (norm, bias) becomes F32;
//   - a 2-D tensor becomes the recipe's format for its class, provided its
//     row width ne0 suits that format (a multiple of 32 for the grouped ones);
//   - a tensor whose type cannot be decoded, a 2-D tensor of another row
//     width, and a tensor of any other rank keep their type and bytes, with
//     a note.
//
// A tensor already of its planned type is copied unchanged.
func (r Recipe) Plan(tensors []gguf.TensorInfo) ([]TensorPlan, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	plans := make([]TensorPlan, len(tensors))
	for i, t := range tensors {
		p := TensorPlan{Name: t.Name, Dims: t.Dims, In: t.Type, Out: t.Type, Copy: true}
		switch {
		case !decodable(t.Type):
			p.Note = fmt.Sprintf("type %s is not decoded here: kept", t.Type)
		case len(t.Dims) == 1:
			p.Out = gguf.TypeF32
		case len(t.Dims) == 2:
			f, why := r.matrixFormat(Class(t.Name))
			if f.Grouped() && t.Dims[0]%quant.GroupSize != 0 {
				p.Note = fmt.Sprintf("row width %d is not a multiple of %d: kept", t.Dims[0], quant.GroupSize)
				break
			}
			p.Out, _ = gguf.TypeOf(f) // Validate checked every format
			p.Note = why
		default:
			p.Note = fmt.Sprintf("%d-D tensor: kept", len(t.Dims))
		}
		p.Copy = p.Out == p.In
		plans[i] = p
	}
	return plans, nil
}

// decodable reports whether tensors of type t can be decoded to float32.
func decodable(t gguf.Type) bool {
	if f, ok := t.Format(); ok && f.Grouped() {
		return true
	}
	return quant.GGMLType(t).Supported()
}
