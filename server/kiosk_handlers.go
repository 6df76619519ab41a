package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// handlePair exchanges a one-time pairing code for a kiosk token and the
// event's template key. Failures are rate-limited per IP against code
// guessing.
func (s *Server) handlePair(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	if ok, wait := s.pairRate.take(ip); !ok {
		s.metrics.inc("facecheck_pairings_total", "result", "rate_limited")
		w.Header().Set("Retry-After", retryAfter(wait))
		s.writeError(w, r, errorf(http.StatusTooManyRequests, "rate_limited", "too many attempts; try again later"))
		return
	}
	var req api.PairRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.DeviceName = normText(req.DeviceName)
	if err := checkText("device_name", req.DeviceName, 1, 100); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkText("app_version", req.AppVersion, 0, 64); err != nil {
		s.writeError(w, r, err)
		return
	}
	k, token, err := s.store.Pair(r.Context(), req.Code, req.DeviceName, req.AppVersion)
	switch {
	case errors.Is(err, store.ErrInvalidCredentials):
		s.metrics.inc("facecheck_pairings_total", "result", "invalid")
		s.writeError(w, r, errorf(http.StatusUnauthorized, "pairing_code_invalid", "unknown or already used pairing code"))
		return
	case errors.Is(err, store.ErrExpired):
		s.metrics.inc("facecheck_pairings_total", "result", "expired")
		s.writeError(w, r, errorf(http.StatusUnauthorized, "pairing_code_expired", "the pairing code has expired; ask for a new one"))
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
	key, keyVersion, err := s.store.EventKey(r.Context(), ev.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.pairRate.refund(ip)
	s.metrics.inc("facecheck_pairings_total", "result", "ok")
	s.audit(r, "kiosk:"+k.ID, "kiosk.pair", k.ID, fmt.Sprintf("device %q, event %s", k.Name, ev.ID))
	s.writeJSON(w, r, http.StatusCreated, api.PairResponse{
		KioskID: k.ID, Token: token, EventID: ev.ID, EventName: ev.Name, TemplateKey: key, KeyVersion: keyVersion,
	})
}

// handleKey answers a kiosk that saw a new HeaderKeyVersion with the
// event's current template key (rotated when a kiosk was revoked).
func (s *Server) handleKey(w http.ResponseWriter, r *http.Request) {
	ev := eventFrom(r.Context())
	key, version, err := s.store.EventKey(r.Context(), ev.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, http.StatusOK, api.EventKey{EventID: ev.ID, KeyVersion: version, TemplateKey: key})
}

// setKeyVersion puts the event key's version on a kiosk answer
// (api.HeaderKeyVersion). A failed look-up leaves it out: the kiosk keeps
// its key until a later answer carries it.
func (s *Server) setKeyVersion(w http.ResponseWriter, r *http.Request, eventID string) {
	v, err := s.store.EventKeyVersion(r.Context(), eventID)
	if err != nil {
		s.logger.Warn("key version", "event", eventID, "err", err)
		return
	}
	w.Header().Set(api.HeaderKeyVersion, strconv.Itoa(v))
}

// handleGallery streams the event's gallery changes after ?since= as
// NDJSON: one api.GalleryRecord per line, written as it is read from the
// database, then an api.GalleryEnd line with the record count and, when the
// feed is the whole gallery, Snapshot. A stream that breaks off has no end
// line, so the kiosk keeps its old cursor.
func (s *Server) handleGallery(w http.ResponseWriter, r *http.Request) {
	k, ev := kioskFrom(r.Context()), eventFrom(r.Context())
	var since int64
	if v := r.URL.Query().Get("since"); v != "" {
		var err error
		if since, err = strconv.ParseInt(v, 10, 64); err != nil || since < 0 {
			s.writeError(w, r, errorf(http.StatusBadRequest, "invalid_cursor", "since must be a non-negative integer"))
			return
		}
	}
	if err := s.store.TouchKiosk(r.Context(), k.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	// Read before the feed: a rotation after it seals the feed's
	// templates under a key the kiosk does not hold yet, the kiosk
	// refuses the feed whole and sees the new version next round.
	s.setKeyVersion(w, r, ev.ID)
	// A large first sync over a slow link may outlast the server's
	// ReadTimeout, which would cancel the request.
	if err := http.NewResponseController(w).SetReadDeadline(time.Time{}); err != nil {
		s.logger.Debug("gallery: clear read deadline", "err", err)
	}
	enc := json.NewEncoder(w)
	started := false
	end, err := s.store.StreamGalleryFeed(r.Context(), ev.ID, since, func(rec api.GalleryRecord) error {
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.Header().Set("Cache-Control", "no-store")
			started = true
		}
		return enc.Encode(rec)
	})
	s.metrics.add("facecheck_gallery_records_total", float64(end.Count))
	if err != nil {
		if !started {
			s.writeError(w, r, err)
			return
		}
		s.logger.Warn("gallery stream cut", "kiosk", k.ID, "records", end.Count, "err", err)
		panic(http.ErrAbortHandler) // cut the connection: no end line
	}
	if !started {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Cache-Control", "no-store")
	}
	if end.Snapshot {
		s.metrics.inc("facecheck_gallery_snapshots_total")
	}
	if err := enc.Encode(end); err != nil {
		s.logger.Debug("gallery end", "kiosk", k.ID, "err", err)
	}
}

// validateCheckIn checks one check-in (facecheck.ValidateCheckIn and
// CheckInTime against the server's clock); a batch with one bad item is
// refused whole, before anything is written.
func (s *Server) validateCheckIn(i int, c api.CheckIn) error {
	err := facecheck.ValidateCheckIn(c)
	if err == nil {
		err = facecheck.CheckInTime(c.At, s.Now())
	}
	if ce := (*facecheck.CheckInError)(nil); errors.As(err, &ce) {
		return errorf(http.StatusUnprocessableEntity, "invalid_checkin", "checkins[%d]: %s", i, ce.Reason)
	}
	return err
}

// handleCheckIns ingests a batch of check-ins, idempotent by id.
func (s *Server) handleCheckIns(w http.ResponseWriter, r *http.Request) {
	k, ev := kioskFrom(r.Context()), eventFrom(r.Context())
	var b api.CheckInBatch
	if err := s.decodeJSON(w, r, &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(b.CheckIns) > s.cfg.MaxBatch {
		s.writeError(w, r, errorf(http.StatusUnprocessableEntity, "batch_too_large", "at most %d check-ins per batch", s.cfg.MaxBatch))
		return
	}
	for i, c := range b.CheckIns {
		if err := s.validateCheckIn(i, c); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.screenCaptures(ev, b.CheckIns)
	res, err := s.store.RecordCheckIns(r.Context(), ev.ID, k.ID, b.CheckIns)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	accepted := false
	for _, x := range res {
		s.metrics.inc("facecheck_checkins_total", "status", x.Status)
		if x.Status == api.StatusAccepted {
			accepted = true
			if x.Repeat {
				s.metrics.inc("facecheck_checkin_repeats_total")
			}
		}
	}
	if accepted {
		s.hub.publish(ev.ID)
	}
	for _, x := range res {
		if x.Captured {
			// The attendee moved up the gallery feed: kiosks fetch the
			// template on their next pull, calibration sees the new cursor.
			s.metrics.inc("facecheck_captures_total", "status", "kept")
		}
	}
	s.writeJSON(w, r, http.StatusOK, api.CheckInBatchResult{Results: res})
}

// screenCaptures drops the captures the server must not keep before the
// check-ins are stored: all of them when the event does not allow captures
// (api.SettingCaptureTemplates), and any that does not open with the event
// key for its attendee. A dropped capture never costs the check-in.
func (s *Server) screenCaptures(ev *store.Event, cs []api.CheckIn) {
	allowed := ev.Settings[api.SettingCaptureTemplates] == "true"
	for i := range cs {
		c := &cs[i]
		if c.Capture == nil {
			continue
		}
		if !allowed {
			s.metrics.inc("facecheck_captures_total", "status", "not_allowed")
			c.Capture = nil
			continue
		}
		if _, err := openTemplate(ev, c.AttendeeID, *c.Capture); err != nil {
			s.metrics.inc("facecheck_captures_total", "status", "invalid")
			s.logger.Warn("capture dropped", "checkin", c.ID, "err", err)
			c.Capture = nil
		}
	}
}

// openTemplate opens a template a kiosk sealed with the event key for id
// and checks it can be compared.
func openTemplate(ev *store.Event, id string, st api.SealedTemplate) (api.Template, error) {
	t, err := api.OpenTemplate(ev.TemplateKey, id, st)
	if err != nil {
		return api.Template{}, errorf(http.StatusUnprocessableEntity, "template_invalid",
			"the template cannot be opened with this event's key")
	}
	if err := checkText("template.model", t.Model, 1, 100); err != nil {
		return api.Template{}, err
	}
	if _, err := newVector(t); err != nil {
		return api.Template{}, errorf(http.StatusUnprocessableEntity, "template_invalid", "%s", err.Error())
	}
	return t, nil
}

// handleIdentify searches the event's gallery for a probe template.
func (s *Server) handleIdentify(w http.ResponseWriter, r *http.Request) {
	ev := eventFrom(r.Context())
	var req api.IdentifyRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := openTemplate(ev, api.ProbeID, req.Template)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	probe, err := newVector(t)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.galleries.get(r.Context(), s.store, ev)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m := g.search(&probe)
	resp := api.IdentifyResponse{Decision: api.DecisionReject}
	if m.found {
		resp.Score, resp.Margin = m.score, m.margin
		// The identify API cannot see the person: a code check is the
		// client's, so verify is always an answer (facecheck doc).
		d, _ := thresholds(s.calibrated(r.Context(), ev).Thresholds).Decide(m.score, m.margin, facecheck.RiskNone, true)
		resp.Decision = string(d)
		if resp.Decision != api.DecisionReject {
			resp.Found, resp.AttendeeID, resp.Name = true, m.id, m.name
		}
	}
	s.metrics.inc("facecheck_identify_total", "decision", resp.Decision)
	s.writeJSON(w, r, http.StatusOK, resp)
}

// handleEnrol stores a walk-up registration made at a kiosk, idempotent by
// its client-generated id (which becomes the attendee id).
func (s *Server) handleEnrol(w http.ResponseWriter, r *http.Request) {
	k, ev := kioskFrom(r.Context()), eventFrom(r.Context())
	if ok, wait := s.enrolRate.take(clientIP(r)); !ok {
		s.metrics.inc("facecheck_rate_limited_total", "what", "enrolment")
		w.Header().Set("Retry-After", retryAfter(wait))
		s.writeError(w, r, errorf(http.StatusTooManyRequests, "rate_limited", "too many enrolments; try again later"))
		return
	}
	var req api.EnrolRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Name, req.Email = normText(req.Name), strings.TrimSpace(req.Email)
	if err := validateEnrol(req); err != nil {
		s.writeError(w, r, err)
		return
	}
	// A replay answers as the first time did.
	if resp, err := s.existingEnrolment(r, ev, req.ID); err == nil {
		s.writeJSON(w, r, http.StatusOK, resp)
		return
	} else if !errors.Is(err, store.ErrNotFound) {
		s.writeError(w, r, err)
		return
	}
	t, err := openTemplate(ev, req.ID, req.Template)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reg, err := s.store.CreateAttendee(r.Context(), store.AttendeeCreate{
		ID: req.ID, EventID: ev.ID, Name: req.Name, Email: req.Email, Source: store.SourceKiosk,
		Consent: req.Consent, CaptureConsent: req.CaptureConsent, Templates: []api.Template{t},
	})
	if errors.Is(err, store.ErrConflict) {
		// Either a concurrent replay won the race, or the e-mail is taken.
		if resp, err2 := s.existingEnrolment(r, ev, req.ID); err2 == nil {
			s.writeJSON(w, r, http.StatusOK, resp)
			return
		}
		s.writeError(w, r, errorf(http.StatusConflict, "email_taken", "this e-mail address is already registered for the event"))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.inc("facecheck_enrolments_total", "source", store.SourceKiosk)
	s.audit(r, "kiosk:"+k.ID, "attendee.enrol", reg.Attendee.ID, "walk-up registration")
	s.writeJSON(w, r, http.StatusCreated, api.EnrolResponse{AttendeeID: reg.Attendee.ID, ShortCode: reg.ShortCode})
}

// existingEnrolment answers a replayed enrolment: ErrNotFound when id is
// new, an *Error when it belongs elsewhere or was deleted since.
func (s *Server) existingEnrolment(r *http.Request, ev *store.Event, id string) (api.EnrolResponse, error) {
	a, err := s.store.FindAttendeeByID(r.Context(), id)
	if err != nil {
		return api.EnrolResponse{}, err
	}
	if a.EventID != ev.ID {
		return api.EnrolResponse{}, errorf(http.StatusConflict, "id_conflict", "this id is in use")
	}
	if a.DeletedAt != nil {
		return api.EnrolResponse{}, errorf(http.StatusGone, "attendee_deleted", "this attendee has been deleted")
	}
	code, err := s.store.ShortCode(r.Context(), ev, id)
	if err != nil {
		return api.EnrolResponse{}, err
	}
	return api.EnrolResponse{AttendeeID: id, ShortCode: code}, nil
}

func validateEnrol(req api.EnrolRequest) error {
	if !validUUID(req.ID) {
		return errorf(http.StatusUnprocessableEntity, "invalid_id", "id must be a UUID")
	}
	if err := checkText("name", req.Name, 1, 200); err != nil {
		return err
	}
	if err := checkEmail(req.Email, false); err != nil {
		return err
	}
	if !req.Consent {
		return errorf(http.StatusUnprocessableEntity, "consent_required", "the attendee's consent is required")
	}
	return nil
}

// handleSettings returns the event's kiosk setting defaults and thresholds,
// recalibrated first when the gallery changed (calibration.go).
func (s *Server) handleSettings(w http.ResponseWriter, r *http.Request) {
	ev := s.calibrated(r.Context(), eventFrom(r.Context()))
	s.setKeyVersion(w, r, ev.ID)
	s.writeJSON(w, r, http.StatusOK, api.EventSettings{
		EventID: ev.ID, EventName: ev.Name, Values: ev.Settings, Thresholds: ev.Thresholds,
	})
}

// handleHeartbeat records a kiosk's status for the dashboard.
func (s *Server) handleHeartbeat(w http.ResponseWriter, r *http.Request) {
	k := kioskFrom(r.Context())
	var hb api.Heartbeat
	if err := s.decodeJSON(w, r, &hb); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkText("app_version", hb.AppVersion, 0, 64); err != nil {
		s.writeError(w, r, err)
		return
	}
	if hb.Queued < 0 || hb.Cursor < 0 || hb.Gallery < 0 {
		s.writeError(w, r, errorf(http.StatusUnprocessableEntity, "invalid_heartbeat", "queued, cursor and gallery must not be negative"))
		return
	}
	switch hb.State {
	case "", api.SyncOnline, api.SyncOffline, api.SyncDegraded, api.SyncStarting:
	default:
		s.writeError(w, r, errorf(http.StatusUnprocessableEntity, "invalid_heartbeat", "unknown state %q", hb.State))
		return
	}
	if err := checkText("last_error", hb.LastError, 0, 500); err != nil {
		s.writeError(w, r, err)
		return
	}
	if hb.LastSync.After(s.Now().Add(24 * time.Hour)) {
		s.writeError(w, r, errorf(http.StatusUnprocessableEntity, "invalid_heartbeat", "last_sync must not be in the future"))
		return
	}
	if err := s.store.RecordHeartbeat(r.Context(), k.ID, hb); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkText validates a text field's length in characters and that it is
// valid UTF-8 without control characters.
func checkText(field, v string, minLen, maxLen int) error {
	n := utf8.RuneCountInString(v)
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) || hasInvisibleFormat(v) {
		return errorf(http.StatusUnprocessableEntity, "invalid_"+strings.ReplaceAll(field, ".", "_"), "%s contains invalid characters", field)
	}
	if n < minLen || n > maxLen {
		if minLen > 0 && n == 0 {
			return errorf(http.StatusUnprocessableEntity, "invalid_"+strings.ReplaceAll(field, ".", "_"), "%s is required", field)
		}
		return errorf(http.StatusUnprocessableEntity, "invalid_"+strings.ReplaceAll(field, ".", "_"), "%s must be at most %d characters", field, maxLen)
	}
	return nil
}

// checkEmail is a deliberately loose check: one @, something on both sides,
// a dot in the domain. Deliverability is the mail server's business.
func checkEmail(v string, required bool) error {
	if v == "" && !required {
		return nil
	}
	local, domain, ok := strings.Cut(v, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.ContainsAny(v, " <>\"") ||
		len(v) > 254 || checkText("email", v, 1, 254) != nil {
		return errorf(http.StatusUnprocessableEntity, "invalid_email", "e-mail address is not valid")
	}
	return nil
}

// audit appends to the audit log; a failure is logged, not fatal.
func (s *Server) audit(r *http.Request, actor, action, target, detail string) {
	if err := s.store.AddAudit(r.Context(), store.AuditEntry{
		Actor: actor, Action: action, Target: target, Detail: detail, IP: clientIP(r),
	}); err != nil {
		s.logger.Error("audit", "action", action, "err", err)
	}
}

// validUUID accepts a UUID in its canonical lower-case form only, so one
// UUID cannot be stored under two spellings.
func validUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}
