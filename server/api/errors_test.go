package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWriteError(t *testing.T) {
	for _, tc := range []struct {
		err        error
		status     int
		typ, code  string
		retryAfter string
	}{
		{BadRequest("invalid_json", "bad"), 400, "invalid_request_error", "invalid_json", ""},
		{NewError(401, "unauthorized", "who"), 401, "authentication_error", "unauthorized", ""},
		{NewError(413, "body_too_large", "big"), 413, "invalid_request_error", "body_too_large", ""},
		{&Error{Status: 429, Code: "rate_limited", RetryAfter: 1500 * time.Millisecond}, 429, "rate_limit_error", "rate_limited", "2"},
		{&Error{Status: 503, Code: "queue_full", RetryAfter: time.Millisecond}, 503, "unavailable_error", "queue_full", "1"},
		{NewError(504, "deadline_exceeded", "slow"), 504, "timeout_error", "deadline_exceeded", ""},
		{fmt.Errorf("wrapped: %w", BadRequest("invalid_task", "x")), 400, "invalid_request_error", "invalid_task", ""},
		{errors.New("secret internal detail"), 500, "server_error", "internal_error", ""},
	} {
		t.Run(tc.code, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, tc.err)
			require.Equal(t, tc.status, rec.Code)
			require.Equal(t, tc.retryAfter, rec.Header().Get("Retry-After"))
			require.Contains(t, rec.Header().Get("Content-Type"), "application/json")
			var body ErrorBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			require.Equal(t, tc.typ, body.Error.Type)
			require.Equal(t, tc.code, body.Error.Code)
			require.NotEmpty(t, body.Error.Message)
			require.NotContains(t, rec.Body.String(), "secret")
		})
	}
}

func TestWithin(t *testing.T) {
	err := Within(NewError(413, "image_too_large", "too big"), "messages[1]")
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, 413, e.Status)
	require.Equal(t, "image_too_large", e.Code)
	require.Equal(t, "messages[1]: too big", e.Message)

	plain := errors.New("boom")
	require.ErrorIs(t, Within(plain, "x"), plain)
}

func ptr[T any](v T) *T { return &v }

func TestSamplingParamsResolve(t *testing.T) {
	l := Limits{DefaultMaxTokens: 100, MaxTokens: 500}.WithDefaults()
	s, err := SamplingParams{}.Resolve(l)
	require.NoError(t, err)
	require.Equal(t, Sampling{MaxTokens: 100}, s, "defaults: greedy with the default budget")
	require.True(t, s.Greedy())

	s, err = SamplingParams{MaxTokens: ptr(500), Temperature: ptr[float32](0.7), TopP: ptr[float32](0.9),
		TopK: ptr(40), Seed: ptr[int64](-1), Stop: StringList{"\n"}}.Resolve(l)
	require.NoError(t, err)
	require.Equal(t, Sampling{MaxTokens: 500, Temperature: 0.7, TopP: 0.9, TopK: 40, Seed: ^uint64(0), Stop: []string{"\n"}}, s)

	a, err := SamplingParams{Temperature: ptr[float32](1)}.Resolve(l)
	require.NoError(t, err)
	b, err := SamplingParams{Temperature: ptr[float32](1)}.Resolve(l)
	require.NoError(t, err)
	require.NotEqual(t, a.Seed, b.Seed, "sampling without a seed gets a fresh random one")

	for _, tc := range []struct {
		p    SamplingParams
		code string
	}{
		{SamplingParams{MaxTokens: ptr(0)}, "invalid_max_tokens"},
		{SamplingParams{MaxTokens: ptr(501)}, "invalid_max_tokens"},
		{SamplingParams{Temperature: ptr[float32](-0.1)}, "invalid_temperature"},
		{SamplingParams{Temperature: ptr[float32](2.5)}, "invalid_temperature"},
		{SamplingParams{TopP: ptr[float32](1.5)}, "invalid_top_p"},
		{SamplingParams{TopK: ptr(-1)}, "invalid_top_k"},
		{SamplingParams{Stop: StringList{""}}, "invalid_stop"},
		{SamplingParams{Stop: StringList{"a", "b", "c", "d", "e"}}, "invalid_stop"},
	} {
		_, err := tc.p.Resolve(l)
		require.Equal(t, tc.code, code(t, err))
	}
}

func TestLimitsWithDefaults(t *testing.T) {
	require.Equal(t, DefaultLimits(), Limits{}.WithDefaults())
	l := Limits{MaxTokens: 16}.WithDefaults()
	require.Equal(t, 16, l.DefaultMaxTokens, "the default budget never exceeds the maximum")
}

func TestStringList(t *testing.T) {
	for in, want := range map[string]StringList{
		`{"stop": "x"}`:        {"x"},
		`{"stop": ["x", "y"]}`: {"x", "y"},
		`{"stop": null}`:       nil,
		`{}`:                   nil,
	} {
		var v struct {
			Stop StringList `json:"stop"`
		}
		require.NoError(t, json.Unmarshal([]byte(in), &v), in)
		require.Equal(t, want, v.Stop, in)
	}
	var v struct {
		Stop StringList `json:"stop"`
	}
	require.Error(t, json.Unmarshal([]byte(`{"stop": 3}`), &v))
}

func TestDecodeJSON(t *testing.T) {
	type body struct {
		A int `json:"a"`
	}
	for _, tc := range []struct {
		in     string
		limit  int64
		status int
	}{
		{`{"a": 1}`, 100, 200},
		{`  {"a": 1}  `, 100, 200},
		{``, 100, 400},
		{`{"a": `, 100, 400},
		{`{"a": "x"}`, 100, 400},
		{`{"a": 1} {"a": 2}`, 100, 400},
		{`{"a": 1} junk`, 100, 400},
		{`{"a": 1, "pad": "` + strings.Repeat("x", 200) + `"}`, 100, 413},
	} {
		t.Run(tc.in[:min(len(tc.in), 20)], func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := http.MaxBytesReader(rec, readCloser{strings.NewReader(tc.in)}, tc.limit)
			var v body
			err := DecodeJSON(r, &v)
			if tc.status == 200 {
				require.NoError(t, err)
				require.Equal(t, 1, v.A)
				return
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.status, e.Status)
		})
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }
