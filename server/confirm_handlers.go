package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/facecheck/facecheck/server/store"
)

// The attendee's side of the registration e-mail: the page that confirms
// the address (pending attendees join the kiosks' gallery only then), the
// page that asks for the e-mail again, and the "check your e-mail" page
// shown after a pending registration.

func confirmPath(eventID, token string) string {
	return "/register/" + url.PathEscape(eventID) + "/confirm?t=" + url.QueryEscape(token)
}

func resendPath(eventID string) string { return "/register/" + url.PathEscape(eventID) + "/resend" }

func sentPath(eventID string) string { return "/register/" + url.PathEscape(eventID) + "/sent" }

// mailRoutes are the routes of the registration e-mail.
func (s *Server) mailRoutes(mux *http.ServeMux) {
	// A closed event takes no confirmation: its kiosks are told to stop.
	mux.HandleFunc("GET /register/{event}/confirm", s.registrationOpen(s.handleConfirmPage))
	mux.HandleFunc("POST /register/{event}/confirm", s.registrationOpen(s.handleConfirm))
	mux.HandleFunc("GET /register/{event}/resend", s.registrationOpen(s.handleResendPage))
	mux.HandleFunc("POST /register/{event}/resend", s.registrationOpen(s.handleResend))
	mux.HandleFunc("GET /register/{event}/sent", s.handleSentPage)
	mux.Handle("POST /admin/events/{id}/confirm-email", s.adminPage(s.handleEventPageConfirmEmail))
}

type confirmEmailPage struct {
	EventName, Name string
	Action, Token   string
	EventLang       string
}

func (p confirmEmailPage) eventLanguage() string { return p.EventLang }

// confirmLinkError answers a confirmation link that does not work: used,
// unknown or expired; the page offers to send the e-mail again.
func (s *Server) confirmLinkError(w http.ResponseWriter, r *http.Request, ev *store.Event, err error) {
	msg := "web.err.confirm_link"
	if errors.Is(err, store.ErrExpired) {
		msg = "web.err.confirm_expired"
	}
	s.render(w, r, http.StatusNotFound, "message.html", messagePage{
		Title: "web.confirm.title", Message: msg, Status: http.StatusNotFound, EventLang: ev.Settings[settingLanguage],
		Link: resendPath(ev.ID), LinkText: "web.resend.title",
	})
}

// handleConfirmPage asks the attendee to confirm with a button: a GET
// changes nothing, so a mail scanner that opens every link does not
// confirm for them.
func (s *Server) handleConfirmPage(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.registerEvent(w, r)
	if !ok {
		return
	}
	token := r.URL.Query().Get("t")
	a, err := s.store.PendingByConfirmToken(r.Context(), token)
	if err == nil && a.EventID != ev.ID {
		err = store.ErrInvalidCredentials
	}
	switch {
	case errors.Is(err, store.ErrInvalidCredentials), errors.Is(err, store.ErrExpired):
		s.confirmLinkError(w, r, ev, err)
		return
	case err != nil:
		s.renderInternal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "confirm_email.html", confirmEmailPage{
		EventName: ev.Name, Name: a.Name, Action: "/register/" + url.PathEscape(ev.ID) + "/confirm", Token: token,
		EventLang: ev.Settings[settingLanguage],
	})
}

// handleConfirm uses up the confirmation token: the attendee's face joins
// the gallery and kiosks get it on their next sync.
func (s *Server) handleConfirm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	ev, ok := s.registerEvent(w, r)
	if !ok {
		return
	}
	token := r.PostFormValue("t")
	a, err := s.store.PendingByConfirmToken(r.Context(), token)
	if err == nil && a.EventID != ev.ID {
		err = store.ErrInvalidCredentials
	}
	if err == nil {
		a, err = s.store.ConfirmAttendee(r.Context(), token)
	}
	switch {
	case errors.Is(err, store.ErrInvalidCredentials), errors.Is(err, store.ErrExpired):
		s.confirmLinkError(w, r, ev, err)
		return
	case err != nil:
		s.renderInternal(w, r, err)
		return
	}
	s.metrics.inc("facecheck_confirmations_total")
	s.audit(r, "attendee:"+a.ID, "attendee.confirm", a.ID, "event "+ev.ID)
	s.hub.publish(ev.ID)
	s.render(w, r, http.StatusOK, "message.html", messagePage{
		Title: "web.confirmed.title", Message: "web.confirmed.message", Args: []any{a.Name, ev.Name},
		Status: http.StatusOK, EventLang: ev.Settings[settingLanguage],
	})
}

type resendPage struct {
	EventName, Action string
	Email             string
	Error             string
	EventLang         string
}

func (p resendPage) eventLanguage() string { return p.EventLang }

// handleResendPage asks for the address to send the e-mail to again.
func (s *Server) handleResendPage(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.registerEvent(w, r)
	if !ok {
		return
	}
	if !s.mailOn() {
		s.renderError(w, r, http.StatusNotFound, "web.err.no_mail")
		return
	}
	s.render(w, r, http.StatusOK, "resend.html", resendPage{EventName: ev.Name, Action: resendPath(ev.ID),
		EventLang: ev.Settings[settingLanguage]})
}

// handleResend sends a registered address its e-mail again with new links
// (the earlier ones stop working). It answers the same whether or not the
// address is registered, and is limited per client and per address before
// anything is looked up.
func (s *Server) handleResend(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	ev, ok := s.registerEvent(w, r)
	if !ok {
		return
	}
	if !s.mailOn() {
		s.renderError(w, r, http.StatusNotFound, "web.err.no_mail")
		return
	}
	email := strings.ToLower(normText(r.PostFormValue("email")))
	page := resendPage{EventName: ev.Name, Action: resendPath(ev.ID), Email: email, EventLang: ev.Settings[settingLanguage]}
	if len(email) > 254 || checkEmail(email, true) != nil {
		page.Error = "web.err.email"
		s.render(w, r, http.StatusUnprocessableEntity, "resend.html", page)
		return
	}
	ok, wait := s.resendRate.take(clientIP(r))
	if ok {
		ok, wait = s.resendAddrRate.take(addressKey(ev.ID, email))
	}
	if !ok {
		s.metrics.inc("facecheck_rate_limited_total", "what", "resend")
		w.Header().Set("Retry-After", retryAfter(wait))
		page.Error = "web.err.too_many_resends"
		s.render(w, r, http.StatusTooManyRequests, "resend.html", page)
		return
	}
	a, err := s.store.FindAttendeeByEmail(r.Context(), ev.ID, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		s.renderInternal(w, r, err)
		return
	default:
		if _, err := s.queueRegistrationMail(r.Context(), a, email, s.pageLang(w, r, ev.Settings[settingLanguage])); err != nil {
			s.renderInternal(w, r, err)
			return
		}
		s.audit(r, "attendee:"+a.ID, "attendee.resend", a.ID, "event "+ev.ID)
	}
	s.render(w, r, http.StatusOK, "message.html", messagePage{
		Title: "web.resend.sent_title", Message: "web.resend.sent", Args: []any{ev.Name},
		Status: http.StatusOK, EventLang: ev.Settings[settingLanguage],
	})
}

// addressKey is the resend limiter's key for an address: a hash, so the
// limiter's memory holds no addresses.
func addressKey(eventID, email string) string {
	h := sha256.Sum256([]byte(eventID + "\x00" + email))
	return hex.EncodeToString(h[:16])
}

// handleSentPage is shown after a registration that waits for its
// confirmation.
func (s *Server) handleSentPage(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.registerEvent(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "message.html", messagePage{
		Title: "web.sent.title", Message: "web.sent.message", Args: []any{ev.Name},
		Status: http.StatusOK, EventLang: ev.Settings[settingLanguage],
		Link: resendPath(ev.ID), LinkText: "web.resend.title",
	})
}
