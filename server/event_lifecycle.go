package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// The event's lifecycle: an end date and a retention window (set on create
// and in the settings), a hand close, and the purge of events past their
// retention by a loop in the server (store.Lifecycle).

// purgeActor is the audit log's actor of the automatic purge.
const purgeActor = "system"

// eventClosedError is the answer to a kiosk, a pairing or a registration
// for a closed or purged event.
func eventClosedError(ev *store.Event) *Error {
	if ev.PurgedAt != nil {
		return errorf(http.StatusGone, api.CodeEventClosed, "the event was purged; forget its gallery")
	}
	return errorf(http.StatusGone, api.CodeEventClosed, "the event is closed; forget its gallery")
}

// openEvent returns the event when it is open, a 404 or 410 *Error when it
// does not exist or is closed.
func (s *Server) openEvent(ctx context.Context, id string) (*store.Event, error) {
	ev, err := s.store.FindEventByID(ctx, id)
	if err != nil {
		return nil, notFoundError(err, "event")
	}
	if ev.Closed() {
		return nil, eventClosedError(ev)
	}
	return ev, nil
}

// registrationOpen answers the registration form of a closed event with a
// page that says so, without the form; other requests go on to next (an
// unknown event is next's to answer).
func (s *Server) registrationOpen(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ev, err := s.store.FindEventByID(r.Context(), r.PathValue("event"))
		if err == nil && ev.Closed() {
			s.render(w, r, http.StatusGone, "message.html", messagePage{Title: "web.register.closed_title",
				Message: "web.register.closed", Args: []any{ev.Name}, Status: http.StatusGone, EventLang: ev.Settings[settingLanguage]})
			return
		}
		next(w, r)
	}
}

// lifecycleOptions checks an end date and retention from the admin API or
// the dashboard for an event with lifecycle l (the zero value for a new
// one): the retention within bounds, and a purge that does not fall due at
// once (that is a delete, which has its own confirmation). It returns l
// with them applied.
func (s *Server) lifecycleOptions(l store.Lifecycle, endsAt *time.Time, retentionDays *int) (store.Lifecycle, error) {
	if retentionDays != nil {
		if *retentionDays < 0 || *retentionDays > store.MaxRetentionDays {
			return l, errorf(http.StatusUnprocessableEntity, "invalid_retention", "retention_days must be 0 to %d", store.MaxRetentionDays)
		}
		l.RetentionDays = *retentionDays
	}
	if endsAt != nil {
		if endsAt.Year() < 2000 || endsAt.Year() > 9999 {
			return l, errorf(http.StatusUnprocessableEntity, "invalid_end", "ends_at is out of range")
		}
		t := endsAt.UTC().Truncate(time.Millisecond)
		l.EndsAt = &t
	}
	if at := l.PurgeAt(); at != nil && !at.After(s.now()) && (endsAt != nil || retentionDays != nil) {
		return l, errorf(http.StatusUnprocessableEntity, "purge_in_past",
			"the end date and retention would purge the event's data at once; close or delete the event instead")
	}
	return l, nil
}

// setLifecycle changes an event's end date and/or retention and audits it.
func (s *Server) setLifecycle(r *http.Request, id string, endsAt *time.Time, retentionDays *int) (*store.Event, error) {
	ev, err := s.store.FindEventByID(r.Context(), id)
	if err != nil {
		return nil, notFoundError(err, "event")
	}
	if ev.PurgedAt != nil {
		return nil, eventClosedError(ev)
	}
	l, err := s.lifecycleOptions(ev.Lifecycle, endsAt, retentionDays)
	if err != nil {
		return nil, err
	}
	ev, err = s.store.SetEventLifecycle(r.Context(), id, l.EndsAt, &l.RetentionDays)
	if errors.Is(err, store.ErrPurged) {
		return nil, errorf(http.StatusGone, api.CodeEventClosed, "the event was purged")
	}
	if err != nil {
		return nil, notFoundError(err, "event")
	}
	s.audit(r, sessionFrom(r.Context()).Username, "event.lifecycle", ev.ID, lifecycleDetail(ev.Lifecycle))
	return ev, nil
}

func lifecycleDetail(l store.Lifecycle) string {
	end := "no end date"
	if l.EndsAt != nil {
		end = "ends " + l.EndsAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s, retention %d days", end, l.RetentionDays)
}

// closeEvent closes an event by hand: kiosks get 410 from now on (and wipe
// its gallery), registration shows that it is closed, pairing codes go.
func (s *Server) closeEvent(r *http.Request, id string) (*store.Event, error) {
	ev, err := s.store.CloseEvent(r.Context(), id)
	if err != nil {
		return nil, notFoundError(err, "event")
	}
	s.galleries.drop(id)
	s.audit(r, sessionFrom(r.Context()).Username, "event.close", id, lifecycleDetail(ev.Lifecycle))
	s.hub.publish(id)
	return ev, nil
}

// handleCloseEvent is POST /v1/admin/events/{id}/close.
func (s *Server) handleCloseEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := s.closeEvent(r, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, ev.API())
}

// purgeResult is one pass of the purge loop: the events it purged.
type purgeResult struct {
	purged []string
	err    error
}

// purgeLoop purges the events past their retention when the server opens,
// every Config.PurgeEvery and when PurgeNow asks; Close stops it.
func (s *Server) purgeLoop() {
	defer s.bg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.done
		cancel()
	}()
	tick := time.NewTicker(s.cfg.PurgeEvery)
	defer tick.Stop()
	s.purgeDue(ctx)
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
			s.purgeDue(ctx)
		case reply := <-s.purgeKick:
			reply <- s.purgeDue(ctx)
		}
	}
}

// PurgeNow has the running server's purge loop make a pass at once (the
// server's clock decides what is due) and returns the ids of the events it
// purged. Before Open and after Close it makes the pass itself.
func (s *Server) PurgeNow(ctx context.Context) ([]string, error) {
	if s.srv == nil {
		res := s.purgeDue(ctx)
		return res.purged, res.err
	}
	reply := make(chan purgeResult, 1)
	select {
	case s.purgeKick <- reply:
	case <-s.done:
		res := s.purgeDue(ctx)
		return res.purged, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case res := <-reply:
		return res.purged, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// purgeDue purges every event whose retention has passed. One event's
// failure is logged and does not stop the others; it is tried again on
// the next pass.
func (s *Server) purgeDue(ctx context.Context) purgeResult {
	var res purgeResult
	ids, err := s.store.DueForPurge(ctx, s.now())
	if err != nil {
		s.logger.Error("purge: list due events", "err", err)
		res.err = err
		return res
	}
	var errs []error
	for _, id := range ids {
		c, err := s.store.PurgeEvent(ctx, id, purgeActor)
		if err != nil {
			s.logger.Error("purge", "event", id, "err", err)
			s.metrics.inc("facecheck_event_purges_total", "result", "error")
			errs = append(errs, err)
			continue
		}
		s.galleries.drop(id)
		s.hub.publish(id)
		s.metrics.inc("facecheck_event_purges_total", "result", "ok")
		s.logger.Info("event purged after its retention", "event", id, "attendees", c.Attendees,
			"tombstones", c.Tombstones, "templates", c.Templates, "checkins", c.CheckIns)
		res.purged = append(res.purged, id)
	}
	res.err = errors.Join(errs...)
	return res
}
