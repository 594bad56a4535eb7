package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/signalscrape/signalscrape/http/upload"
)

// apiError is an error answer with its status; msg is meant for a person.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// fail answers with the status err calls for. Errors the client did not
// cause are logged and hidden behind a generic message.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := classify(err)
	if status >= http.StatusInternalServerError {
		s.logFailure(r, status, err)
	}
	if status == http.StatusRequestEntityTooLarge {
		w.Header().Set("Connection", "close")
	}
	writeJSON(w, status, errorBody{Error: msg})
}

// classify maps err to an answer's status and message.
func classify(err error) (int, string) {
	var ae *apiError
	var ie *upload.InputError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.msg
	case errors.As(err, &ie):
		return http.StatusBadRequest, ie.Msg
	case errors.Is(err, upload.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, err.Error()
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "the node did not answer in time"
	}
	return http.StatusInternalServerError, "internal error"
}

// logFailure logs a server-side failure, unless the client went away.
func (s *server) logFailure(r *http.Request, status int, err error) {
	if r.Context().Err() != nil {
		s.log.Debug("request abandoned by the client", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, errorf(http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
}

func (s *server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s", r.Method, r.URL.Path))
}
