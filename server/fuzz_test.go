package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzRequestJSON throws arbitrary bodies at both inference endpoints: the
// answer is always a 200 or a client error in the JSON error shape, never
// a 500 or a panic.
func FuzzRequestJSON(f *testing.F) {
	valid, err := json.Marshal(inferenceBody(f, "vqa", "what?", 3, 2))
	require.NoError(f, err)
	chat, err := json.Marshal(map[string]any{"messages": []any{map[string]any{"role": "user", "content": []any{
		map[string]any{"type": "text", "text": "hi"},
		map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64," + pngBase64(f, 2, 2)}},
	}}}, "stop": []string{"x"}, "max_tokens": 4})
	require.NoError(f, err)
	for _, seed := range [][]byte{valid, chat, nil, []byte(`{`), []byte(`null`), []byte(`[]`), []byte(`{"task":"ocr","image":"data:,"}`),
		[]byte(`{"messages":[{"role":"user","content":null}]}`), []byte(`{"task":"caption","image":"iVBORw0KGgo=","max_tokens":-1}`)} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	ts := newTestServer(f, func(o *Options) { o.MaxBodyBytes = 1 << 16; o.Limits.MaxImagePixels = 64 * 64 })
	f.Fuzz(func(t *testing.T, body []byte, toChat bool) {
		path := "/v1/inference"
		if toChat {
			path = "/v1/chat/completions"
		}
		rec := httptest.NewRecorder()
		ts.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), rec.Body.String())
			require.NotEmpty(t, e.Error.Code)
		default:
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}
