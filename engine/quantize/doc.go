// Package quantize converts GGUF models to the engine's weight formats:
// `mmllm quantize IN.gguf OUT.gguf --recipe int2|int4|int8` is a thin
// command over QuantizeFile.
//
// A Recipe decides each tensor's type (see Recipe.Plan): 2-D weight
// matrices get the recipe's format unless a rule for their class (the
// tensor name without its layer index) says otherwise, 1-D tensors are
// stored as F32, and anything else keeps its type. The int2 recipe keeps
// the embedding table and output head at Int2EmbeddingFormat and the
// classes that measurement showed Int2 hurts most at Int4; the measurement
// and the decision are in docs/quantization.md, and
// TestInt2RecipeFollowsMeasurement reruns it.
//
// Source tensors of any type engine/quant decodes (F32, F16, BF16, Q8_0,
// Q4_0, Q2_K, Q4_K, Q6_K and the engine's own formats) are decoded to
// float32 one chunk of rows at a time, checked for NaN and infinities, and
// quantized with quant's Search method while the output file is written,
// so a large model is never held twice in memory.
package quantize
