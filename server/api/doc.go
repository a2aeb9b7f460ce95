// Package api is the contract the server's packages share: the request and
// result types exchanged with the engine, the JSON error shape every
// endpoint answers with, and the validation of image inputs (base64 or data
// URI, format, pixel limit) that happens before any pixel is decoded.
//
// It depends on no other server package, so the native handler, the
// OpenAI-compatible layer, the cache and the auth middleware can all use it.
package api
