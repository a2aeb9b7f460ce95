package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
)

// Keys of values handlers leave on the gin context for the middleware.
const (
	keyRequestID = "mmllm.request_id"
	keyModel     = "mmllm.model"
	keyTask      = "mmllm.task"
	keyError     = "mmllm.error" // *api.Error the request ended with
)

// unknownLabel is the model or task label of a request refused before
// either was known (so a client cannot invent label values).
const unknownLabel = "unknown"

func apiErr(status int, code, msg string) *api.Error { return api.NewError(status, code, msg) }

// requestID takes a sane X-Request-ID from the client or makes one, and
// echoes it.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !validRequestID(id) {
		var b [16]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(keyRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

// validRequestID accepts 1 to 64 letters, digits, '-', '_' and '.', so a
// client's id is safe in logs and headers.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// status is the status a request ended with: the error's when there is
// one (a stream that failed after its 200, or a client that went away),
// else what was written.
func status(c *gin.Context) int {
	if e, ok := c.Get(keyError); ok {
		return e.(*api.Error).Status
	}
	return c.Writer.Status()
}

// accessLog logs each request once it is answered; health probes only at
// debug level.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	st := status(c)
	level := slog.LevelInfo
	switch {
	case st >= 500 && st != http.StatusServiceUnavailable:
		level = slog.LevelError
	case c.FullPath() == "/health" || c.FullPath() == "/ready":
		level = slog.LevelDebug
	}
	attrs := []slog.Attr{
		slog.String("request_id", c.GetString(keyRequestID)),
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", st),
		slog.Duration("duration", time.Since(start)),
	}
	if m := c.GetString(keyModel); m != "" {
		attrs = append(attrs, slog.String("model", m))
	}
	if t := c.GetString(keyTask); t != "" {
		attrs = append(attrs, slog.String("task", t))
	}
	if e, ok := c.Get(keyError); ok {
		attrs = append(attrs, slog.String("error_code", e.(*api.Error).Code))
	}
	s.log.LogAttrs(c.Request.Context(), level, "request", attrs...)
}

// recoverPanic turns a panic in a handler into a 500.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if r == http.ErrAbortHandler { //nolint:errorlint // a sentinel panic value, compared as net/http does
			panic(r)
		}
		s.log.Error("panic in handler", "request_id", c.GetString(keyRequestID),
			"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		s.fail(c, apiErr(http.StatusInternalServerError, "internal_error", "internal server error"))
	}()
	c.Next()
}

// authorize checks the bearer token and its rate.
func (s *Server) authorize(c *gin.Context) {
	if err := s.auth.Authorize(c.GetHeader("Authorization"), time.Now()); err != nil {
		s.fail(c, err)
		return
	}
	c.Next()
}

// limitBody refuses a declared Content-Length over the limit before reading
// anything, and caps what is read when the length is not declared.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.ContentLength > s.maxBody {
		s.fail(c, apiErr(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("the request body is %d bytes, over the limit of %d", c.Request.ContentLength, s.maxBody)))
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.maxBody)
	c.Next()
}

// observe counts an inference request in flight and, once answered, in the
// request, error and latency metrics.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	s.active.add()
	defer s.active.done()
	c.Next()
	st := status(c)
	model, task := label(c, keyModel), label(c, keyTask)
	code := strconv.Itoa(st)
	s.metrics.requests.WithLabelValues(model, task, code).Inc()
	switch {
	case st >= 400:
		s.metrics.errors.WithLabelValues(model, task, code).Inc()
	case st == http.StatusOK:
		s.metrics.duration.WithLabelValues(model, task).Observe(time.Since(start).Seconds())
	}
}

func label(c *gin.Context, key string) string {
	if v := c.GetString(key); v != "" {
		return v
	}
	return unknownLabel
}

// rejectionStatus are the statuses of requests refused by policy or load
// rather than failed; they are counted by reason.
var rejectionStatus = map[int]bool{
	http.StatusUnauthorized:          true,
	http.StatusRequestEntityTooLarge: true,
	http.StatusTooManyRequests:       true,
	http.StatusServiceUnavailable:    true,
}

// fail answers c with err (see api.WriteError) unless an answer is already
// under way, and stops the handler chain.
func (s *Server) fail(c *gin.Context, err error) {
	e := s.record(c, err)
	if !c.Writer.Written() {
		api.WriteError(c.Writer, e)
	}
	c.Abort()
}

// record notes the error a request ends with, once, for the logging and
// metrics middleware (a stream that fails after its 200 is recorded but not
// answered), counts rejections by reason, and logs errors that are not
// *api.Error values, whose text the client does not see.
func (s *Server) record(c *gin.Context, err error) *api.Error {
	if prev, ok := c.Get(keyError); ok {
		return prev.(*api.Error)
	}
	e := api.AsError(err)
	var known *api.Error
	if !errors.As(err, &known) {
		s.log.Error("request failed", "request_id", c.GetString(keyRequestID), "error", err)
	}
	if rejectionStatus[e.Status] {
		s.metrics.rejections.WithLabelValues(e.Code).Inc()
	}
	c.Set(keyError, e)
	return e
}
