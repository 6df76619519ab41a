package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// statusWriter records the status and size of a response. It passes
// Flush on (streams need it) and unwraps for http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recoverer turns a panic into a 500 problem (http.ErrAbortHandler, used to
// cut a stream short on purpose, passes through).
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// instrument counts requests by route pattern and status.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern // set by the mux on this request
		if route == "" {
			route = "unmatched"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.metrics.observeRequest(route, sw.status, time.Since(start))
	})
}

// securityHeaders sets headers every response gets.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "+
			"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		if s.cfg.tls() {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if private(r.URL.Path) {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// private reports whether answers under path carry what no cache may keep:
// admin pages and JSON, the pairing answer (token and event key), an
// attendee's confirmation page (short code, withdraw token), metrics.
func private(path string) bool {
	return strings.HasPrefix(path, "/admin") || strings.HasPrefix(path, "/v1/admin/") || path == "/v1/pair" ||
		path == "/metrics" || strings.HasPrefix(path, "/register/") && strings.Contains(path, "/me/")
}

// noListing answers 404 for directories, so /static/ lists nothing.
func noListing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// discardWriter captures what a handler would answer, to replace it.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }

// notFound answers unknown routes and wrong methods itself, with a problem
// body under /v1 and for JSON clients, a friendly page for browsers,
// instead of the mux's plain text.
func (s *Server) notFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		d := &discardWriter{h: http.Header{}}
		h.ServeHTTP(d, r)
		status := d.status
		if status == 0 || status == http.StatusOK {
			status = http.StatusNotFound
		}
		if allow := d.h.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		code, detail := "not_found", "no such resource"
		if status == http.StatusMethodNotAllowed {
			code, detail = "method_not_allowed", fmt.Sprintf("%s is not allowed here", r.Method)
		}
		if wantsJSON(r) {
			writeProblem(w, problemFor(status, code, detail))
			return
		}
		s.renderError(w, r, status, detail)
	})
}

func problemFor(status int, code, detail string) api.Problem {
	return api.Problem{Title: http.StatusText(status), Status: status, Code: code, Detail: detail}
}

// wantsJSON reports whether errors for r are answered as problem JSON.
func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/v1/") || r.URL.Path == "/v1" ||
		strings.Contains(r.Header.Get("Accept"), "json") && !strings.Contains(r.Header.Get("Accept"), "text/html")
}

// clientIP is the remote address's host. X-Forwarded-For is not trusted:
// behind a proxy every client would share the proxy's limits, which is the
// safe failure.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type ctxKey int

const (
	ctxKiosk ctxKey = iota
	ctxEvent
	ctxSession
)

func kioskFrom(ctx context.Context) *store.Kiosk     { return ctx.Value(ctxKiosk).(*store.Kiosk) }
func eventFrom(ctx context.Context) *store.Event     { return ctx.Value(ctxEvent).(*store.Event) }
func sessionFrom(ctx context.Context) *store.Session { return ctx.Value(ctxSession).(*store.Session) }

// kioskAuth authenticates a kiosk's bearer token and puts the kiosk and its
// event in the request context: every kiosk call is scoped to that event.
func (s *Server) kioskAuth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="facecheck"`)
			s.writeError(w, r, errorf(http.StatusUnauthorized, "token_missing", "an Authorization: Bearer token is required"))
			return
		}
		k, err := s.store.FindKioskByToken(r.Context(), token)
		switch {
		case errors.Is(err, store.ErrInvalidCredentials):
			w.Header().Set("WWW-Authenticate", `Bearer realm="facecheck", error="invalid_token"`)
			s.writeError(w, r, errorf(http.StatusUnauthorized, "token_invalid", "the token is not valid"))
			return
		case errors.Is(err, store.ErrRevoked):
			w.Header().Set("WWW-Authenticate", `Bearer realm="facecheck", error="invalid_token"`)
			s.writeError(w, r, errorf(http.StatusUnauthorized, "token_revoked", "this kiosk was revoked; pair it again"))
			return
		case err != nil:
			s.writeError(w, r, err)
			return
		}
		ev, err := s.store.FindEventByID(r.Context(), k.EventID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if ev.Closed() {
			// The kiosk wipes the event's gallery on this answer.
			s.writeError(w, r, eventClosedError(ev))
			return
		}
		ctx := context.WithValue(r.Context(), ctxKiosk, k)
		ctx = context.WithValue(ctx, ctxEvent, ev)
		next(w, r.WithContext(ctx))
	})
}

// Cookie names.
const (
	sessionCookie = "fc_session"
	loginCookie   = "fc_login" // pre-session CSRF token of the log-in form
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf_token"
)

// session returns the logged-in admin's session, or an error to answer with.
func (s *Server) session(r *http.Request) (*store.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, errorf(http.StatusUnauthorized, "login_required", "log in at /admin/login")
	}
	sess, err := s.store.FindSession(r.Context(), c.Value)
	if errors.Is(err, store.ErrInvalidCredentials) || errors.Is(err, store.ErrExpired) {
		return nil, errorf(http.StatusUnauthorized, "login_required", "the session has ended; log in at /admin/login")
	}
	if err != nil {
		return nil, err
	}
	return sess, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func csrfOK(sess *store.Session, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(sess.CSRFToken)) == 1
}

// adminAPI requires an admin session, and the session's CSRF token in
// X-CSRF-Token for state-changing methods.
func (s *Server) adminAPI(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.session(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !safeMethod(r.Method) && !csrfOK(sess, r.Header.Get(csrfHeader)) {
			s.writeError(w, r, errorf(http.StatusForbidden, "csrf_invalid", "missing or wrong %s header", csrfHeader))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxSession, sess)))
	})
}

// adminPage is adminAPI for the HTML dashboard: not logged in redirects to
// the log-in page; form posts carry the CSRF token in a hidden field.
func (s *Server) adminPage(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.session(r)
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		if err != nil {
			s.renderInternal(w, r, err)
			return
		}
		if !safeMethod(r.Method) {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
			token := r.Header.Get(csrfHeader)
			if token == "" {
				var err error
				if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
					// Held in memory: the body is bounded anyway.
					err = r.ParseMultipartForm(s.cfg.MaxBodyBytes)
				} else {
					err = r.ParseForm()
				}
				if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
					s.renderError(w, r, http.StatusRequestEntityTooLarge,
						fmt.Sprintf("The form is too large: at most %d KiB.", s.cfg.MaxBodyBytes>>10))
					return
				}
				token = r.PostFormValue(csrfField)
			}
			if !csrfOK(sess, token) {
				s.renderError(w, r, http.StatusForbidden, "This form has expired. Go back, reload the page and try again.")
				return
			}
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxSession, sess)))
	})
}
