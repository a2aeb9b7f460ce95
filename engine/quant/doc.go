// Package quant defines the weight and activation storage formats of the
// engine and their scalar reference implementations.
//
// Every format's byte layout is written down beside its type. The reference
// functions (suffix Ref) are the specification: every fast path in
// engine/kernels is tested against them.
//
// The engine's own weight formats (Int2, Int4, Int8) share one row layout:
// a row of n weights (n a multiple of GroupSize = 32) is stored as
//
//	codes  | scale codes (one byte per group) | offset codes (one byte per group, Int2/Int4 only)
//
// so that a SIMD kernel reads the codes of consecutive groups, and the
// scales of consecutive groups, with plain vector loads. The byte count per
// group is fixed, so a tensor of rows×n weights takes rows·n/32·GroupBytes
// bytes, exactly as ggml's block accounting expects.
//
// Scales are stored as one-byte E5M3 floats (see ScaleCode); a weight is
// d·(q + o) where d is the group's scale, q its unsigned code and o the
// group's offset (a signed multiple of a fixed fraction of one step).
//
// Activations are quantized to Q8 (int8 codes in groups of 32 with a float32
// scale and the group's scaled sum) so that products are integer dot
// products with one float multiply per group.
package quant
