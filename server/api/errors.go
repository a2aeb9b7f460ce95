package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// StatusClientClosed is the status logged and counted when the client went
// away before the answer (nginx's 499); the client never sees it.
const StatusClientClosed = 499

// Error is an error with the HTTP answer it maps to. Every endpoint answers
// failures as {"error": {"message", "type", "code"}}, the shape OpenAI's
// clients parse.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is a stable, machine-readable reason such as "queue_full".
	Code string
	// Message is for people.
	Message string
	// RetryAfter, when positive, is sent as the Retry-After header.
	RetryAfter time.Duration
}

// NewError returns an Error with the given status, code and message.
func NewError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// BadRequest returns a 400 Error.
func BadRequest(code, message string) *Error {
	return NewError(http.StatusBadRequest, code, message)
}

// Error returns the message with its code.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Type is the error's class in OpenAI's terms, derived from the status.
func (e *Error) Type() string {
	switch {
	case e.Status == http.StatusUnauthorized:
		return "authentication_error"
	case e.Status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case e.Status == http.StatusServiceUnavailable:
		return "unavailable_error"
	case e.Status == http.StatusGatewayTimeout:
		return "timeout_error"
	case e.Status == StatusClientClosed:
		return "client_closed_error"
	case e.Status >= 400 && e.Status < 500:
		return "invalid_request_error"
	}
	return "server_error"
}

// AsError returns err as an *Error; anything else becomes a 500 whose
// message does not leak err's text (log err instead).
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return NewError(http.StatusInternalServerError, "internal_error", "internal server error")
}

// Within puts where (a field's path) in front of err's message, keeping an
// *Error's status and code.
func Within(err error, where string) error {
	var e *Error
	if !errors.As(err, &e) {
		return fmt.Errorf("%s: %w", where, err)
	}
	cp := *e
	cp.Message = where + ": " + e.Message
	return &cp
}

// ErrorBody is the JSON body of a failed request.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    string `json:"code"`
}

// Body returns the JSON body for e.
func (e *Error) Body() ErrorBody {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return ErrorBody{Error: ErrorDetail{Message: msg, Type: e.Type(), Code: e.Code}}
}

// WriteError answers err (see AsError) with its status, Retry-After header
// and JSON body.
func WriteError(w http.ResponseWriter, err error) {
	e := AsError(err)
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds(e.RetryAfter)))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status)
	// The status is out; a failed write means the client is gone.
	_ = json.NewEncoder(w).Encode(e.Body())
}

// RetryAfterSeconds rounds d up to whole seconds, at least 1, as the
// Retry-After header wants.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
