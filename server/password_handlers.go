package server

import (
	"errors"
	"net/http"

	"github.com/facecheck/facecheck/server/store"
)

type passwordPage struct {
	User, CSRF string
	MinLength  int
	Error      string
}

func (s *Server) handlePasswordPage(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r.Context())
	s.render(w, r, http.StatusOK, "password.html", passwordPage{User: sess.Username, CSRF: sess.CSRFToken, MinLength: store.MinPasswordLength})
}

// handlePasswordChange replaces the logged-in admin's password. The
// current password is asked again (a session left open on a shared
// computer must not be enough), under the log-in limits, and every other
// session of the admin ends.
func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r.Context())
	page := passwordPage{User: sess.Username, CSRF: sess.CSRFToken, MinLength: store.MinPasswordLength}
	fail := func(status int, msg string) {
		page.Error = msg
		s.render(w, r, status, "password.html", page)
	}
	ip := clientIP(r)
	if ok, wait := s.loginRate.take(ip); !ok {
		w.Header().Set("Retry-After", retryAfter(wait))
		fail(http.StatusTooManyRequests, "web.err.too_many_attempts")
		return
	}
	current, next, confirm := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm")
	err := s.checkPassword(r.Context(), sess.Username, current)
	if errors.Is(err, store.ErrInvalidCredentials) {
		s.audit(r, sess.Username, "admin.password_change_failed", sess.Username, "wrong current password")
		fail(http.StatusUnauthorized, "web.admin.password_wrong")
		return
	}
	if err != nil {
		s.renderInternal(w, r, err)
		return
	}
	s.loginRate.refund(ip)
	switch {
	case len(next) < store.MinPasswordLength:
		fail(http.StatusUnprocessableEntity, "web.admin.password_short")
		return
	case next != confirm:
		fail(http.StatusUnprocessableEntity, "web.admin.password_differ")
		return
	case next == current:
		fail(http.StatusUnprocessableEntity, "web.admin.password_same")
		return
	}
	keep := ""
	if c, err := r.Cookie(sessionCookie); err == nil {
		keep = c.Value
	}
	if err := s.withPasswordSlot(r.Context(), func() error { return s.store.SetAdminPassword(r.Context(), sess.Username, next, keep) }); err != nil {
		s.renderInternal(w, r, err)
		return
	}
	s.audit(r, sess.Username, "admin.password_change", sess.Username, "other sessions ended")
	s.render(w, r, http.StatusOK, "message.html", messagePage{Title: "web.admin.password_changed_title",
		Message: "web.admin.password_changed", Status: http.StatusOK})
}
