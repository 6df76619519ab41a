package server

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// notFoundError answers ErrNotFound as a 404 for what, and passes other
// errors on.
func notFoundError(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "not_found", "no such %s", what)
	}
	return err
}

func (s *Server) handleAdminSession(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r.Context())
	s.writeJSON(w, r, http.StatusOK, api.Session{Username: sess.Username, CSRFToken: sess.CSRFToken})
}

func (s *Server) handleListEvents(w http.ResponseWriter, r *http.Request) {
	es, err := s.store.ListEvents(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]api.Event, 0, len(es))
	for _, e := range es {
		out = append(out, e.API())
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleCreateEvent(w http.ResponseWriter, r *http.Request) {
	var req api.EventCreate
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, err := s.createEvent(r, req.Name, req.EndsAt, req.RetentionDays)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, ev.API())
}

// createEvent creates an event; endsAt and retentionDays may be nil (no end
// date, the default retention).
func (s *Server) createEvent(r *http.Request, name string, endsAt *time.Time, retentionDays *int) (*store.Event, error) {
	name = normText(name)
	if err := checkText("name", name, 1, 200); err != nil {
		return nil, err
	}
	l, err := s.lifecycleOptions(store.Lifecycle{RetentionDays: store.DefaultRetentionDays}, endsAt, retentionDays)
	if err != nil {
		return nil, err
	}
	opts := []store.EventOption{store.WithRetention(l.RetentionDays)}
	if l.EndsAt != nil {
		opts = append(opts, store.WithEnd(*l.EndsAt))
	}
	ev, err := s.store.CreateEvent(r.Context(), name, opts...)
	if err != nil {
		return nil, err
	}
	s.audit(r, sessionFrom(r.Context()).Username, "event.create", ev.ID, ev.Name)
	return ev, nil
}

func (s *Server) handleGetEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := s.store.FindEventByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, notFoundError(err, "event"))
		return
	}
	s.writeJSON(w, r, http.StatusOK, ev.API())
}

func validateThresholds(th api.Thresholds) error {
	in := func(v float32) bool { return !math.IsNaN(float64(v)) && v >= -1 && v <= 1 }
	switch {
	case !in(th.Accept) || !in(th.Confirm) || !in(th.Margin) || th.Margin < 0:
		return errorf(http.StatusUnprocessableEntity, "invalid_thresholds", "thresholds must be cosines in [-1, 1], margin in [0, 1]")
	case th.Confirm > th.Accept:
		return errorf(http.StatusUnprocessableEntity, "invalid_thresholds", "confirm must not exceed accept")
	case th.TargetFPIR < 0 || th.TargetFPIR > 1 || math.IsNaN(th.TargetFPIR):
		return errorf(http.StatusUnprocessableEntity, "invalid_thresholds", "target_fpir must be in [0, 1]")
	}
	return nil
}

// handleUpdateEventSettings sets an event's thresholds (pinned by an admin)
// and/or its kiosk setting defaults. Kiosks read them at GET /v1/settings.
func (s *Server) handleUpdateEventSettings(w http.ResponseWriter, r *http.Request) {
	var req api.EventSettingsUpdate
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Thresholds != nil {
		if err := validateThresholds(*req.Thresholds); err != nil {
			s.writeError(w, r, err)
			return
		}
		req.Thresholds.Pinned = true
	}
	if len(req.Values) > 200 {
		s.writeError(w, r, errorf(http.StatusUnprocessableEntity, "invalid_values", "at most 200 setting values"))
		return
	}
	for k, v := range req.Values {
		if err := checkText("values key", k, 1, 100); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := checkText("values["+k+"]", v, 0, 1000); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if req.EndsAt != nil || req.RetentionDays != nil {
		if _, err := s.setLifecycle(r, r.PathValue("id"), req.EndsAt, req.RetentionDays); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	ev, err := s.store.UpdateEventSettings(r.Context(), r.PathValue("id"), req.Thresholds, req.Values)
	if err != nil {
		s.writeError(w, r, notFoundError(err, "event"))
		return
	}
	s.audit(r, sessionFrom(r.Context()).Username, "event.settings", ev.ID, fmt.Sprintf("thresholds %+v, %d values", ev.Thresholds, len(ev.Settings)))
	s.writeJSON(w, r, http.StatusOK, ev.API())
}

func (s *Server) handleListAttendees(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AttendeeFilter{EventID: r.PathValue("id"), Query: q.Get("q"), IncludeDeleted: q.Get("deleted") == "true"}
	var err error
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 500 {
			s.writeError(w, r, errorf(http.StatusBadRequest, "invalid_limit", "limit must be 1 to 500"))
			return
		}
	}
	if v := q.Get("offset"); v != "" {
		if f.Offset, err = strconv.Atoi(v); err != nil || f.Offset < 0 {
			s.writeError(w, r, errorf(http.StatusBadRequest, "invalid_offset", "offset must be a non-negative integer"))
			return
		}
	}
	if err := checkText("q", f.Query, 0, 200); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.store.FindEventByID(r.Context(), f.EventID); err != nil {
		s.writeError(w, r, notFoundError(err, "event"))
		return
	}
	as, total, err := s.store.ListAttendees(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.AttendeeList{Attendees: make([]api.Attendee, 0, len(as)), Total: total}
	for _, a := range as {
		out.Attendees = append(out.Attendees, a.API())
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleListKiosks(w http.ResponseWriter, r *http.Request) {
	if _, err := s.store.FindEventByID(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, notFoundError(err, "event"))
		return
	}
	ks, err := s.store.ListKiosks(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]api.Kiosk, 0, len(ks))
	for _, k := range ks {
		out = append(out, k.API())
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleEventStats(w http.ResponseWriter, r *http.Request) {
	if _, err := s.store.FindEventByID(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, notFoundError(err, "event"))
		return
	}
	st, err := s.store.EventStats(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, st)
}

// deleteAttendee tombstones an attendee; kiosks drop them on next sync.
func (s *Server) deleteAttendee(r *http.Request, actor, id string) (*store.Attendee, error) {
	a, err := s.store.FindAttendeeByID(r.Context(), id)
	if err != nil {
		return nil, notFoundError(err, "attendee")
	}
	// Queued e-mail holds the address (sealed): it goes first.
	if err := s.store.DropAttendeeMail(r.Context(), id); err != nil {
		return nil, err
	}
	if err := s.store.DeleteAttendee(r.Context(), id); err != nil {
		return nil, err
	}
	s.audit(r, actor, "attendee.delete", id, "event "+a.EventID)
	s.hub.publish(a.EventID)
	return a, nil
}

func (s *Server) handleDeleteAttendee(w http.ResponseWriter, r *http.Request) {
	if _, err := s.deleteAttendee(r, sessionFrom(r.Context()).Username, r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) createPairingCode(r *http.Request, eventID string) (api.PairingCode, error) {
	user := sessionFrom(r.Context()).Username
	if _, err := s.openEvent(r.Context(), eventID); err != nil {
		return api.PairingCode{}, err
	}
	code, exp, err := s.store.CreatePairingCode(r.Context(), eventID, user, s.cfg.PairingCodeTTL)
	if err != nil {
		return api.PairingCode{}, notFoundError(err, "event")
	}
	s.audit(r, user, "pairing_code.create", eventID, "expires "+exp.Format("2006-01-02 15:04:05Z07:00"))
	return api.PairingCode{Code: code, EventID: eventID, ExpiresAt: exp}, nil
}

func (s *Server) handleCreatePairingCode(w http.ResponseWriter, r *http.Request) {
	var req api.PairingCodeRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	pc, err := s.createPairingCode(r, req.EventID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, pc)
}

func (s *Server) revokeKiosk(r *http.Request, id string) (*store.Kiosk, error) {
	if err := s.store.RevokeKiosk(r.Context(), id); err != nil {
		return nil, notFoundError(err, "kiosk")
	}
	k, err := s.store.FindKioskByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	s.audit(r, sessionFrom(r.Context()).Username, "kiosk.revoke", id, k.Name)
	return k, nil
}

func (s *Server) handleRevokeKiosk(w http.ResponseWriter, r *http.Request) {
	k, err := s.revokeKiosk(r, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, k.API())
}
