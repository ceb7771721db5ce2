package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/asrkit/asrkit/api"
)

// statusError is an error with the HTTP status it answers with.
type statusError struct {
	code       int
	msg        string
	retryAfter time.Duration // 503: the Retry-After header
}

func (e *statusError) Error() string { return e.msg }

// errorf makes a statusError.
func errorf(code int, format string, args ...any) error {
	return &statusError{code: code, msg: fmt.Sprintf(format, args...)}
}

// writeJSON writes v as the JSON response with the status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// writeError writes {"error": ...}: with the status of a *statusError,
// else 500.
func writeError(w http.ResponseWriter, err error) {
	var se *statusError
	if !errors.As(err, &se) {
		se = &statusError{code: http.StatusInternalServerError, msg: err.Error()}
	}
	if se.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(se.retryAfter.Round(time.Second).Seconds()))))
	}
	writeJSON(w, se.code, api.Error{Error: se.msg})
}

// handle adapts a handler that returns its response value (written as
// JSON with code) or an error.
func handle(code int, fn func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := fn(r)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, code, v)
	}
}

// decodeJSON reads a JSON request body (at most 1 MB) into v, strictly. An
// empty body leaves v as it is when optional.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	body := http.MaxBytesReader(w, r.Body, 1<<20)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return errorf(http.StatusRequestEntityTooLarge, "the request body is over %d bytes", mbe.Limit)
		case optional && errors.Is(err, io.EOF):
			return nil
		}
		return errorf(http.StatusBadRequest, "the request body is not valid JSON for this endpoint: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "the request body holds more than one JSON value")
	}
	return nil
}
