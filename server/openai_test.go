package server

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/openai"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/sched"
	"github.com/stretchr/testify/require"
)

func chatBody(t *testing.T, stream bool, extra map[string]any) map[string]any {
	body := map[string]any{
		"model":  testModel,
		"stream": stream,
		"messages": []any{
			map[string]any{"role": "system", "content": "Be brief. "},
			map[string]any{"role": "user", "content": []any{
				map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64," + pngBase64(t, 5, 2)}},
				map[string]any{"type": "text", "text": "Describe it."},
			}},
		},
	}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

var chatText = expectedText(api.TaskChat, "Be brief. Describe it.", "5x2")

func TestChatCompletion(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/chat/completions", chatBody(t, false, map[string]any{"max_tokens": 32})))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var resp openai.ChatCompletion
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	require.Equal(t, "chat.completion", resp.Object)
	require.Equal(t, "chatcmpl-"+rec.Header().Get("X-Request-ID"), resp.ID)
	require.Equal(t, testModel, resp.Model)
	require.Len(t, resp.Choices, 1)
	require.Equal(t, "assistant", resp.Choices[0].Message.Role)
	require.Equal(t, chatText, resp.Choices[0].Message.Content)
	require.Equal(t, "stop", resp.Choices[0].FinishReason)
	require.Equal(t, 74, resp.Usage.PromptTokens)
	require.Equal(t, resp.Usage.PromptTokens+resp.Usage.CompletionTokens, resp.Usage.TotalTokens)
	require.InDelta(t, time.Now().Unix(), resp.Created, 5)

	fams := ts.scrape(t)
	require.EqualValues(t, 1, metricValue(fams, "mobile_multimodal_requests_total",
		map[string]string{"model": testModel, "task": "chat", "status": "200"}))
}

// sseEvents reads the "data:" payloads of a server-sent event stream.
func sseEvents(t *testing.T, body string) []string {
	t.Helper()
	var events []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		require.True(t, ok, "unexpected line %q", line)
		events = append(events, data)
	}
	require.NoError(t, sc.Err())
	return events
}

func TestChatCompletionStream(t *testing.T) {
	ts := newTestServer(t, nil)
	body := chatBody(t, true, map[string]any{"stream_options": map[string]any{"include_usage": true}})
	rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/chat/completions", body))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "text/event-stream", rec.Header().Get("Content-Type"))

	events := sseEvents(t, rec.Body.String())
	require.Equal(t, "[DONE]", events[len(events)-1])
	var text strings.Builder
	var role, finish string
	var usage *api.Usage
	for i, ev := range events[:len(events)-1] {
		var chunk openai.ChatCompletionChunk
		require.NoError(t, json.Unmarshal([]byte(ev), &chunk), ev)
		require.Equal(t, "chat.completion.chunk", chunk.Object)
		require.Equal(t, testModel, chunk.Model)
		require.NotEmpty(t, chunk.ID)
		if chunk.Usage != nil {
			require.Equal(t, len(events)-2, i, "usage comes last")
			usage = chunk.Usage
			continue
		}
		require.Len(t, chunk.Choices, 1)
		c := chunk.Choices[0]
		if i == 0 {
			role = c.Delta.Role
		}
		text.WriteString(c.Delta.Content)
		if c.FinishReason != nil {
			finish = *c.FinishReason
		}
	}
	require.Equal(t, "assistant", role)
	require.Equal(t, chatText, text.String())
	require.Equal(t, "stop", finish)
	require.NotNil(t, usage)
	require.Equal(t, len(strings.Fields(chatText)), usage.CompletionTokens)
	require.Greater(t, len(events), 4, "the text should arrive in several chunks")
}

func TestChatStreamRefusedBeforeStartIsPlainJSON(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.Sched = sched.Options{Slots: 1} })
	ts.engine.block = make(chan struct{})
	running := ts.async(jsonRequest(t, http.MethodPost, "/v1/chat/completions", chatBody(t, true, nil)))
	ts.engine.waitStarted(t, 1)
	rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/chat/completions", chatBody(t, true, nil)))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "queue_full", errorCode(t, rec))
	require.Equal(t, "1", rec.Header().Get("Retry-After"))
	close(ts.engine.block)
	done := <-running
	require.Equal(t, http.StatusOK, done.Code)
	require.Equal(t, "[DONE]", sseEvents(t, done.Body.String())[len(sseEvents(t, done.Body.String()))-1])
}

func TestChatStreamEngineFailureAfterStart(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.engine.fail = errEngine // the fake fails after streaming nothing...
	rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/chat/completions", chatBody(t, true, nil)))
	require.Equal(t, http.StatusInternalServerError, rec.Code, "...so the status is still free to say so")
	require.Equal(t, "internal_error", errorCode(t, rec))
}

func TestChatStreamEngineFailureMidway(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.engine.fail, ts.engine.failLate = errEngine, true
	rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/chat/completions", chatBody(t, true, nil)))
	require.Equal(t, http.StatusOK, rec.Code, "the status went out with the first token")
	events := sseEvents(t, rec.Body.String())
	require.Equal(t, "[DONE]", events[len(events)-1])
	var last api.ErrorBody
	require.NoError(t, json.Unmarshal([]byte(events[len(events)-2]), &last))
	require.Equal(t, "internal_error", last.Error.Code)
	require.NotContains(t, rec.Body.String(), "layer 7")
	fams := ts.scrape(t)
	require.EqualValues(t, 1, metricValue(fams, "mobile_multimodal_errors_total",
		map[string]string{"task": "chat", "status": "500"}), "the failure is counted although the client saw a 200")
}

func TestChatStreamFromCache(t *testing.T) {
	ts := newCachedServer(t, miniredis.RunT(t).Addr())
	var texts []string
	for range 2 {
		rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/chat/completions", chatBody(t, true, nil)))
		require.Equal(t, http.StatusOK, rec.Code)
		var text strings.Builder
		events := sseEvents(t, rec.Body.String())
		for _, ev := range events[:len(events)-1] {
			var chunk openai.ChatCompletionChunk
			require.NoError(t, json.Unmarshal([]byte(ev), &chunk))
			text.WriteString(chunk.Choices[0].Delta.Content)
		}
		texts = append(texts, text.String())
	}
	require.Equal(t, []string{chatText, chatText}, texts)
	require.EqualValues(t, 1, ts.engine.calls.Load(), "the second stream came from the cache")
}

func TestChatBadRequests(t *testing.T) {
	ts := newTestServer(t, nil)
	msgs := func(parts ...any) map[string]any {
		return map[string]any{"messages": []any{map[string]any{"role": "user", "content": parts}}}
	}
	img := func(url string) any {
		return map[string]any{"type": "image_url", "image_url": map[string]any{"url": url}}
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"malformed", `{"messages": [`, 400, "invalid_json"},
		{"no messages", map[string]any{"messages": []any{}}, 400, "invalid_messages"},
		{"bad role", map[string]any{"messages": []any{map[string]any{"role": "tool", "content": "x"}}}, 400, "invalid_messages"},
		{"bad content", map[string]any{"messages": []any{map[string]any{"role": "user", "content": 5}}}, 400, "invalid_json"},
		{"bad part type", msgs(map[string]any{"type": "audio"}), 400, "invalid_content"},
		{"bad data URI base64", msgs(img("data:image/png;base64,@@@")), 400, "invalid_base64"},
		{"not an image", msgs(img("data:image/png;base64,aGVsbG8=")), 400, "invalid_image"},
		{"http URL", msgs(img("http://example.com/a.png")), 400, "invalid_image_url"},
		{"https URL with no allowlist", msgs(img("https://example.com/a.png")), 400, "invalid_image_url"},
		{"missing URL", msgs(map[string]any{"type": "image_url"}), 400, "invalid_image_url"},
		{"n=2", func() any { b := chatBody(t, false, nil); b["n"] = 2; return b }(), 400, "invalid_n"},
		{"bad top_p", func() any { b := chatBody(t, false, nil); b["top_p"] = 2; return b }(), 400, "invalid_top_p"},
		{"unknown model", func() any { b := chatBody(t, false, nil); b["model"] = "nope"; return b }(), 404, "model_not_found"},
		{"model without chat", func() any { b := chatBody(t, false, nil); b["model"] = "captioner"; return b }(), 400, "unsupported_task"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/chat/completions", tc.body))
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Equal(t, tc.code, errorCode(t, rec))
		})
	}
	require.Zero(t, ts.engine.calls.Load())
}

func TestChatStringContentAndStop(t *testing.T) {
	ts := newTestServer(t, nil)
	body := map[string]any{"messages": []any{map[string]any{"role": "user", "content": "hello"}}, "stop": "\n", "max_completion_tokens": 8}
	rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/chat/completions", body))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var resp openai.ChatCompletion
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	require.Equal(t, expectedText(api.TaskChat, "hello"), resp.Choices[0].Message.Content)
}

func TestListModels(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.serve(jsonRequest(t, http.MethodGet, "/v1/models", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var list openai.ModelList
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
	require.Equal(t, "list", list.Object)
	require.Len(t, list.Data, 2)
	require.Equal(t, openai.Model{ID: testModel, Object: "model", Created: 1700000000, OwnedBy: "mobile-mm-llm"}, list.Data[0])
	require.Equal(t, "captioner", list.Data[1].ID)
}

func TestChatImageURLToLoopbackIsRefused(t *testing.T) {
	var hits atomic.Int64
	img := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write(pngBytes(t, 2, 2))
	}))
	defer img.Close()
	ts := newTestServer(t, func(o *Options) { o.ImageDomains = []string{"127.0.0.1", "localhost"} })
	for _, u := range []string{img.URL + "/a.png", strings.Replace(img.URL, "127.0.0.1", "localhost", 1) + "/a.png"} {
		body := map[string]any{"messages": []any{map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "image_url", "image_url": map[string]any{"url": u}},
		}}}}
		rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/chat/completions", body))
		require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
		require.Equal(t, "image_fetch_failed", errorCode(t, rec))
		require.Contains(t, rec.Body.String(), "non-public address")
	}
	require.Zero(t, hits.Load(), "the loopback server must never be reached")
	require.Zero(t, ts.engine.calls.Load())
}
