package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/i18n"
	"github.com/facecheck/facecheck/server/store"
)

func (s *Server) setCookie(w http.ResponseWriter, name, value, path string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode,
	})
}

func (s *Server) clearCookie(w http.ResponseWriter, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
}

func randomString() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

type loginPage struct {
	CSRF     string
	Username string
	Error    string
}

// handleLoginPage shows the log-in form. Its CSRF token is double-submitted:
// a cookie and a hidden field that must match (there is no session yet).
func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if _, err := s.session(r); err == nil {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	token := randomString()
	s.setCookie(w, loginCookie, token, "/admin/login", time.Hour)
	s.render(w, r, http.StatusOK, "login.html", loginPage{CSRF: token})
}

// handleLogin checks the form and starts a session. Failures are
// rate-limited per IP.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	if ok, wait := s.loginRate.take(ip); !ok {
		s.metrics.inc("facecheck_logins_total", "result", "rate_limited")
		w.Header().Set("Retry-After", retryAfter(wait))
		s.renderError(w, r, http.StatusTooManyRequests, "web.admin.login_limited")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "The log-in form could not be read.")
		return
	}
	c, err := r.Cookie(loginCookie)
	form := r.PostForm.Get(csrfField)
	if err != nil || form == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
		s.metrics.inc("facecheck_logins_total", "result", "csrf")
		s.renderError(w, r, http.StatusForbidden, "This form has expired. Reload the log-in page and try again.")
		return
	}
	user, pass := r.PostForm.Get("username"), r.PostForm.Get("password")
	err = s.checkPassword(r.Context(), user, pass)
	if errors.Is(err, store.ErrInvalidCredentials) {
		s.metrics.inc("facecheck_logins_total", "result", "failed")
		s.audit(r, user, "admin.login_failed", user, "")
		s.render(w, r, http.StatusUnauthorized, "login.html", loginPage{CSRF: form, Username: user, Error: "web.admin.wrong_login"})
		return
	}
	if err != nil {
		s.renderInternal(w, r, err)
		return
	}
	s.loginRate.refund(ip)
	token, _, err := s.store.CreateSession(r.Context(), user, s.cfg.SessionTTL)
	if err != nil {
		s.renderInternal(w, r, err)
		return
	}
	s.metrics.inc("facecheck_logins_total", "result", "ok")
	s.audit(r, user, "admin.login", user, "")
	s.clearCookie(w, loginCookie, "/admin/login")
	s.setCookie(w, sessionCookie, token, "/", s.cfg.SessionTTL)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.store.DeleteSession(r.Context(), c.Value); err != nil {
			s.renderInternal(w, r, err)
			return
		}
	}
	s.audit(r, sessionFrom(r.Context()).Username, "admin.logout", "", "")
	s.clearCookie(w, sessionCookie, "/")
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

type dashboardPage struct {
	User, CSRF string
	Events     []eventRow
	Error      string
	// Mail says whether attendees get e-mail (admin_mail.go).
	Mail mailStatus
}

type eventRow struct {
	api.Event
	Stats        api.EventStats
	RegisterPath string
}

func (s *Server) dashboard(r *http.Request) (dashboardPage, error) {
	sess := sessionFrom(r.Context())
	p := dashboardPage{User: sess.Username, CSRF: sess.CSRFToken, Mail: s.mailStatus(r.Context())}
	es, err := s.store.ListEvents(r.Context())
	if err != nil {
		return p, err
	}
	for _, e := range es {
		st, err := s.store.EventStats(r.Context(), e.ID)
		if err != nil {
			return p, err
		}
		p.Events = append(p.Events, eventRow{Event: e.API(), Stats: st, RegisterPath: "/register/" + e.ID})
	}
	return p, nil
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	p, err := s.dashboard(r)
	if err != nil {
		s.renderInternal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "dashboard.html", p)
}

func (s *Server) handleDashboardCreateEvent(w http.ResponseWriter, r *http.Request) {
	var ev *store.Event
	endsAt, retention, err := lifecycleForm(r)
	if err == nil {
		ev, err = s.createEvent(r, r.PostFormValue("name"), endsAt, retention)
	}
	var e *Error
	if errors.As(err, &e) {
		p, err := s.dashboard(r)
		if err != nil {
			s.renderInternal(w, r, err)
			return
		}
		p.Error = errMessage(e)
		s.render(w, r, e.Status, "dashboard.html", p)
		return
	}
	if err != nil {
		s.renderInternal(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/events/"+ev.ID, http.StatusSeeOther)
}

type eventPage struct {
	User, CSRF   string
	Event        api.Event
	Stats        api.EventStats
	Query        string
	Attendees    []*store.Attendee
	Total        int
	Kiosks       []kioskRow
	PairingCode  *pairingCodeView
	Feed         []store.FeedItem
	PerMinute    []int
	RegisterPath string
	// TargetOptions feed the calibration panel's target selector.
	TargetOptions []targetOption
	// CaptureTemplates is the event's api.SettingCaptureTemplates.
	CaptureTemplates bool
	// Language is the event's default language (settingLanguage).
	Language string
	// Mail and ConfirmEmail: e-mail on or off, and whether this event's
	// registrations wait for the address's confirmation (admin_mail.go).
	Mail         mailStatus
	ConfirmEmail bool
	// Pending are the attendees waiting for their address's confirmation.
	Pending map[string]bool
	// Lifecycle is the end date, retention, close and purge section.
	Lifecycle lifecycleView
}

type kioskRow struct {
	*store.Kiosk
	Online bool
	// Attention says why the kiosk is worth a look (its heartbeat: degraded,
	// queue growing, last successful sync long ago); empty when fine.
	Attention []note
}

// staleSync is how old a kiosk's last successful sync may be, while it
// still sends heartbeats, before the dashboard points at it: several sync
// intervals of every kiosk setting in use.
const staleSync = 5 * time.Minute

// attention lists what is wrong with a kiosk, from its last heartbeat.
func attention(k *store.Kiosk, online bool, now time.Time) []note {
	if k.Revoked || k.SyncState == "" {
		return nil // revoked, or a kiosk that does not report its sync
	}
	var why []note
	if k.SyncState == api.SyncDegraded || k.SyncState == api.SyncOffline {
		why = append(why, note{Key: "web.admin.sync_" + k.SyncState})
		if k.LastError != "" {
			// The kiosk's own error text: a detail for IT, as the kiosk logged it.
			why = append(why, note{Key: "web.admin.attn_last_error", Args: []any{clipText(k.LastError, 160)}})
		}
	}
	if k.Queued > k.QueuedBefore && k.Queued > 0 {
		why = append(why, note{Key: "web.admin.attn_queue_growing", Args: []any{k.QueuedBefore, k.Queued}})
	}
	switch {
	case k.LastSync == nil && online && k.SyncState != api.SyncStarting:
		why = append(why, note{Key: "web.admin.attn_never_synced"})
	case k.LastSync != nil && now.Sub(*k.LastSync) > staleSync:
		why = append(why, note{Key: "web.admin.attn_last_sync_ago", Args: []any{int(now.Sub(*k.LastSync).Minutes())}})
	}
	return why
}

// note is a message of the catalogue with its arguments, rendered in the
// page's language by the template's tv.
type note struct {
	Key  string
	Args []any
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func (s *Server) eventPage(r *http.Request, id string) (eventPage, error) {
	sess := sessionFrom(r.Context())
	ev, err := s.store.FindEventByID(r.Context(), id)
	if err != nil {
		return eventPage{}, notFoundError(err, "event")
	}
	ev = s.calibrated(r.Context(), ev)
	p := eventPage{User: sess.Username, CSRF: sess.CSRFToken, Event: ev.API(), Query: r.URL.Query().Get("q"),
		RegisterPath: "/register/" + ev.ID, TargetOptions: targetOptions(ev.Thresholds),
		CaptureTemplates: ev.Settings[api.SettingCaptureTemplates] == "true", Language: ev.Settings[settingLanguage],
		Lifecycle: newLifecycleView(ev.Lifecycle)}
	if p.Language == "" {
		p.Language = i18n.Default
	}
	p.Mail = s.mailStatus(r.Context())
	if p.ConfirmEmail, err = s.store.EventConfirmsEmail(r.Context(), ev.ID); err != nil {
		return p, err
	}
	if p.Pending, err = s.store.PendingAttendees(r.Context(), ev.ID); err != nil {
		return p, err
	}
	if err := checkText("search", p.Query, 0, 200); err != nil {
		return p, err
	}
	if p.Stats, err = s.store.EventStats(r.Context(), ev.ID); err != nil {
		return p, err
	}
	if p.Attendees, p.Total, err = s.store.ListAttendees(r.Context(), store.AttendeeFilter{EventID: ev.ID, Query: p.Query, Limit: 200}); err != nil {
		return p, err
	}
	if p.Feed, err = s.store.CheckInFeed(r.Context(), ev.ID, feedSize); err != nil {
		return p, err
	}
	if p.PerMinute, err = s.store.CheckInsPerMinute(r.Context(), ev.ID, s.now(), rateMinutes); err != nil {
		return p, err
	}
	ks, err := s.store.ListKiosks(r.Context(), ev.ID)
	if err != nil {
		return p, err
	}
	for _, k := range ks {
		online := !k.Revoked && k.LastSeen != nil && s.Now().Sub(*k.LastSeen) < s.cfg.KioskOfflineAfter
		p.Kiosks = append(p.Kiosks, kioskRow{Kiosk: k, Online: online, Attention: attention(k, online, s.Now())})
	}
	return p, nil
}

func (s *Server) handleEventPage(w http.ResponseWriter, r *http.Request) {
	p, err := s.eventPage(r, r.PathValue("id"))
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "event.html", p)
}

func (s *Server) handleEventPageDeleteAttendee(w http.ResponseWriter, r *http.Request) {
	a, err := s.deleteAttendee(r, sessionFrom(r.Context()).Username, r.PathValue("id"))
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/events/"+a.EventID+"?q="+url.QueryEscape(r.PostFormValue("q")), http.StatusSeeOther)
}

// handleEventPageCapture turns the keeping of check-in captures as
// templates on or off for an event (the "capture" checkbox). Attendees who
// registered while it was off were not asked, so they stay out of it.
func (s *Server) handleEventPageCapture(w http.ResponseWriter, r *http.Request) {
	ev, err := s.store.FindEventByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.renderErr(w, r, notFoundError(err, "event"))
		return
	}
	on := r.PostFormValue("capture") == "on"
	values := make(map[string]string, len(ev.Settings)+1)
	for k, v := range ev.Settings {
		values[k] = v
	}
	values[api.SettingCaptureTemplates] = strconv.FormatBool(on)
	if _, err := s.store.UpdateEventSettings(r.Context(), ev.ID, nil, values); err != nil {
		s.renderErr(w, r, err)
		return
	}
	s.audit(r, sessionFrom(r.Context()).Username, "event.capture", ev.ID, fmt.Sprintf("keep check-in captures as templates: %v", on))
	http.Redirect(w, r, "/admin/events/"+ev.ID+"#capture", http.StatusSeeOther)
}

// handleEventPageLanguage sets the event's default language: the
// registration pages' when a visitor's browser names none of ours, and the
// kiosks' (the same setting key) until an attendee picks one.
func (s *Server) handleEventPageLanguage(w http.ResponseWriter, r *http.Request) {
	ev, err := s.store.FindEventByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.renderErr(w, r, notFoundError(err, "event"))
		return
	}
	lang := r.PostFormValue("language")
	if !i18n.Supported(lang) {
		s.renderErr(w, r, errorf(http.StatusBadRequest, "invalid_language", "unknown language %q", lang))
		return
	}
	values := make(map[string]string, len(ev.Settings)+1)
	for k, v := range ev.Settings {
		values[k] = v
	}
	values[settingLanguage] = lang
	if _, err := s.store.UpdateEventSettings(r.Context(), ev.ID, nil, values); err != nil {
		s.renderErr(w, r, err)
		return
	}
	s.audit(r, sessionFrom(r.Context()).Username, "event.language", ev.ID, "default language: "+lang)
	http.Redirect(w, r, "/admin/events/"+ev.ID+"#language", http.StatusSeeOther)
}

func (s *Server) handleEventPageRevokeKiosk(w http.ResponseWriter, r *http.Request) {
	k, err := s.revokeKiosk(r, r.PathValue("id"))
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/events/"+k.EventID, http.StatusSeeOther)
}

// handleLive streams an event's counters as server-sent events: one
// "stats" event and one "activity" event (live feed, attendees' check-in
// counts, check-ins per minute) at once and after every change, a comment
// every 25 s to keep proxies from closing the connection.
func (s *Server) handleLive(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.store.FindEventByID(r.Context(), id); err != nil {
		s.renderErr(w, r, notFoundError(err, "event"))
		return
	}
	rc := http.NewResponseController(w)
	// The server's ReadTimeout would otherwise cancel the stream.
	if err := rc.SetReadDeadline(time.Time{}); err != nil {
		s.logger.Debug("live: clear read deadline", "err", err)
	}
	ch, cancel := s.hub.subscribe(id)
	defer cancel()
	s.metrics.add("facecheck_live_streams", 1)
	defer s.metrics.add("facecheck_live_streams", -1)

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// Attendees' counts go out for check-ins received since the previous
	// push, with a margin for transactions that committed late; the first
	// push covers the minute before the page opened the stream.
	countsSince := s.now().Add(-time.Minute)
	event := func(name string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
		return err
	}
	send := func() error {
		now := s.now()
		st, err := s.store.EventStats(r.Context(), id)
		if err != nil {
			return err
		}
		act, err := s.activity(r.Context(), id, countsSince)
		if err != nil {
			return err
		}
		countsSince = now.Add(-5 * time.Second)
		if err := event("stats", st); err != nil {
			return err
		}
		if err := event("activity", act); err != nil {
			return err
		}
		return rc.Flush()
	}
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for err := send(); err == nil; {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-ch:
			err = send()
		case <-ping.C:
			if _, err = fmt.Fprint(w, ": ping\n\n"); err == nil {
				err = rc.Flush()
			}
		}
	}
}
