// Package vision is the image half of SmolVLM-style (Idefics3) models: it
// decodes images, preprocesses them as llama.cpp's multimodal library
// (libmtmd) does, runs the SigLIP vision encoder of an mmproj GGUF file and
// projects its output into the text model's embedding space.
//
// # Pipeline
//
//  1. DecodeImage reads a JPEG, PNG or WebP image, checking its header
//     (size, pixel limit) before decoding any pixel.
//  2. Encoder.Preprocess cuts the image as llama.cpp's idefics3
//     preprocessor does: the image is fitted into a "refined" size whose
//     sides are multiples of the tile size (clip.vision.image_size), with
//     the longest side near clip.vision.preproc_image_size, and split into a
//     grid of tiles; a global view of the whole image, squashed to one tile,
//     comes last. Every tile is normalized with the model's mean and std.
//  3. Encoder.Encode runs each tile through the encoder: a stride-P patch
//     convolution (one matrix product over every patch's pixels) plus
//     learned position embeddings, pre-norm transformer blocks (LayerNorm,
//     multi-head bidirectional attention, GELU MLP), a final LayerNorm, a
//     pixel shuffle that folds each scale×scale square of patches into one
//     token, and the linear projector mm.model.fc. Every linear layer is one
//     kernels.Pool.GEMMF32 over all patches, attention heads run in
//     parallel on the pool, and the element-wise passes are split by
//     patches.
//  4. BuildLayout splices the encoded tiles into a tokenized prompt at its
//     media markers, with the tile-position tokens the chat format expects.
//
// # Matching llama.cpp
//
// Preprocessing reproduces llama.cpp's integer and float32 arithmetic, so
// the normalized pixels are bit-identical for images that need no resize.
// llama.cpp's CPU backend rounds two things to float16: the inputs and
// weights of the patch convolution (im2col into F16) and the GELU (a
// float16 lookup table). The encoder does the same, so its outputs agree
// with llama.cpp's to float32 rounding plus the rare float16 rounding
// boundary that the two summation orders put on different sides.
package vision
