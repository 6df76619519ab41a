package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/facecheck/facecheck/api"
)

// Error is an error with an HTTP status, a stable code and a message that is
// safe to show to the client. Anything else reaching writeError is internal:
// logged, and answered with a bare 500.
type Error struct {
	Status int
	Code   string
	Detail string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Detail) }

// errorf returns an *Error.
func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Problem content type (RFC 9457).
const problemContentType = "application/problem+json"

// problemOf maps err to the problem sent to the client; internal reports
// whether err was unexpected and must be logged.
func problemOf(err error) (p api.Problem, internal bool) {
	var e *Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return api.Problem{Title: http.StatusText(e.Status), Status: e.Status, Code: e.Code, Detail: e.Detail}, false
	case errors.As(err, &mbe):
		return api.Problem{Title: http.StatusText(http.StatusRequestEntityTooLarge), Status: http.StatusRequestEntityTooLarge,
			Code: "body_too_large", Detail: fmt.Sprintf("the request body exceeds %d bytes", mbe.Limit)}, false
	default:
		return api.Problem{Title: http.StatusText(http.StatusInternalServerError), Status: http.StatusInternalServerError,
			Code: "internal"}, true
	}
}

// writeError answers with a problem JSON body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p, internal := problemOf(err)
	if internal {
		s.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p api.Problem) {
	w.Header().Set("Content-Type", problemContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p) // the client went away: nothing to do
}

// writeJSON answers with v as JSON.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	buf, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("encode response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if _, err := w.Write(append(buf, '\n')); err != nil {
		s.logger.Debug("write response", "path", r.URL.Path, "err", err)
	}
}

// decodeJSON reads a size-limited JSON body into v, rejecting unknown
// fields, trailing data and other content types.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "the request body must be application/json")
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(err)
		}
		return errorf(http.StatusBadRequest, "malformed_json", "unexpected data after the JSON value")
	}
	return nil
}

// jsonError turns a decoding error into a client error that says where the
// body is wrong without echoing it.
func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.As(err, &se):
		return errorf(http.StatusBadRequest, "malformed_json", "invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return errorf(http.StatusBadRequest, "malformed_json", "field %q must be %s", te.Field, te.Type)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "malformed_json", "the request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "malformed_json", "the JSON value is truncated")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errorf(http.StatusBadRequest, "unknown_field", "%s", strings.TrimPrefix(err.Error(), "json: "))
	default:
		return errorf(http.StatusBadRequest, "malformed_json", "invalid JSON")
	}
}
