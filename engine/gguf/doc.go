// Package gguf reads and writes GGUF files, the container format of
// llama.cpp / ggml models.
//
// # Format
//
// A GGUF file (versions 2 and 3; they share one layout, little endian only) is
//
//	magic "GGUF" | uint32 version | uint64 tensor count | uint64 metadata count
//	metadata:     key (uint64 length + bytes) | uint32 value type | value
//	tensor infos: name | uint32 n_dims | uint64 ne0..ne[n-1] | uint32 ggml type | uint64 offset
//	zero padding to the alignment (general.alignment, default 32)
//	tensor data:  each tensor at its offset from the start of this section,
//	              each padded with zeros to the alignment
//
// Dimensions are in ggml order: ne0 is the fastest-varying (the row width of a
// matrix), so a [rows][cols] matrix has dims [cols, rows].
//
// # Reading
//
// Open maps the file read-only (mmap on unix; a plain ReadAt fallback where
// mapping is unavailable) and parses the header. TensorData returns a slice of
// the mapping without copying. Every structural error names the file and
// what is wrong; counts and lengths read from the file are checked against the
// bytes left in the file (and against fixed caps) before anything is
// allocated, and capped (keys 64 KiB, strings 256 MiB, arrays 2^24
// elements, tensor names 63 bytes and 4 dims as in ggml), so a corrupt header
// cannot make the reader allocate gigabytes. Nested arrays, which llama.cpp
// does not read either, are rejected.
//
// This package has its own parser rather than using
// github.com/gpustack/gguf-parser-go: that library is built for size
// estimation and remote files, decodes into its own structures, has no
// writer and no zero-copy access to tensor bytes, and its error messages do
// not name what this engine needs. The format is small enough that a reader
// here costs less than adapting it.
//
// # Tensor types
//
// Type holds ggml type ids with their block sizes (weights per block) and
// type sizes (bytes per block). The engine's own weight formats (see
// engine/quant) get ids that llama.cpp will never assign, 1024+k where k is
// the quant.Format value:
//
//	TypeInt8 = 1026 (quant.Int8: blocks of 32 weights, 33 bytes)
//	TypeInt4 = 1027 (quant.Int4: blocks of 32 weights, 18 bytes)
//	TypeInt2 = 1028 (quant.Int2: blocks of 32 weights, 10 bytes)
//
// Their data is laid out row by row as engine/quant describes (codes, then
// scales, then offsets, per row); a row of ne0 weights takes ne0/32 times the
// block bytes, so the byte-size accounting is the same as for ggml's blocks.
// These ids are part of the file format and must not change.
//
// # Writing
//
// Writer builds a GGUF v3 file with llama.cpp's layout (header, metadata,
// tensor infos, padding, aligned tensor data, each tensor padded). Copying
// every key and tensor of a file written by llama.cpp (gguf-py or
// llama-quantize) through Writer reproduces the file byte for byte.
package gguf
