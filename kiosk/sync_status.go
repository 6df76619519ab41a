package kiosk

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/facecheck/facecheck/api"
)

// SyncUnpaired is SyncStatus.State of a kiosk that is not paired; the other
// states are api.SyncOnline, api.SyncOffline, api.SyncDegraded,
// api.SyncStarting, and SyncRevoked and SyncEventClosed (sync_wipe.go).
const SyncUnpaired = "unpaired"

// SyncStatus is what the sync worker shows the staff (the window's status
// corner and settings pane, the headless JSON lines) and sends the
// dashboard in its heartbeat. It is updated after every HTTP attempt, not
// only at the end of a round.
type SyncStatus struct {
	// State: online (the last call succeeded and nothing is wrong),
	// offline (the server cannot be reached or answers 5xx), degraded (it
	// answers, but with something the kiosk refused, or the kiosk's disk
	// is full), starting (paired, the first gallery pull has not finished),
	// unpaired, revoked (the server revoked the kiosk: its data is wiped,
	// it must be paired again), event_closed (its event's data is wiped).
	State string `json:"state"`
	// Online is State == online.
	Online bool `json:"online"`
	// OfflineSince is when the kiosk last stopped being online.
	OfflineSince time.Time `json:"offline_since,omitzero"`
	// LastSync is the end of the last round in which every call succeeded.
	LastSync time.Time `json:"last_sync,omitzero"`
	// LastAttempt is when the last HTTP attempt ended.
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	Queued      int       `json:"queued"`
	Gallery     int       `json:"gallery"`
	// LastError is the last failure, in English, for the staff and logs;
	// empty once every operation succeeds again.
	LastError string `json:"last_error,omitempty"`
}

// syncHealth is what the status is computed from.
type syncHealth struct {
	// unreachable is the last attempt's failure to reach the server (a
	// connection error, a timeout, a 5xx); nil once an attempt got an
	// answer.
	unreachable error
	// problems are the operations whose last outcome was an answer the
	// kiosk could not use ("gallery": a refused snapshot, "settings",
	// "push", "heartbeat", "pair").
	problems map[string]error
	// pulled: a gallery pull succeeded since pairing (or start-up with a
	// cursor already stored).
	pulled bool
	// emitted is the last status sent to OnEvent, to emit only changes.
	emitted SyncStatus
	// ended is SyncRevoked or SyncEventClosed after the server ended the
	// kiosk's part in its event (sync_wipe.go), until it is paired again
	// or, for a closed event, a gallery pull succeeds.
	ended string
}

// offline reports whether err means the server could not be reached (as
// opposed to an answer the kiosk could not use). A call that ran out of
// time counts as unreachable, even when the deadline hit a local step
// between two requests (the last flush of a stopping kiosk whose server
// hangs), not as a problem of that step.
func offline(err error) bool {
	return errors.Is(err, ErrOffline) || errors.Is(err, context.DeadlineExceeded)
}

// noteAttempt records one HTTP attempt (every retry included): whether
// the server answered at all. It is the retry policy's hook, so a hanging
// or dead server shows as offline after the first attempt's timeout, not
// after the retries of a whole round.
func (s *Syncer) noteAttempt(resp *http.Response, err error) {
	var cause error
	switch {
	case err != nil:
		cause = errors.Join(ErrOffline, err)
	case resp != nil && resp.StatusCode >= 500:
		cause = &HTTPError{Method: resp.Request.Method, Path: resp.Request.URL.Path, Status: resp.StatusCode}
	}
	s.mu.Lock()
	s.status.LastAttempt = s.cfg.Now()
	s.health.unreachable = cause
	if cause != nil {
		s.status.LastError = cause.Error()
	}
	s.mu.Unlock()
	s.emitChanged()
}

// noteOp records the outcome of one operation of a round (op names it).
func (s *Syncer) noteOp(op string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil:
		// Reachability is the attempts' business (noteAttempt): an
		// operation may succeed without a request (nothing due to push).
		delete(s.health.problems, op)
		if op == "gallery" {
			s.health.pulled = true
			if s.health.ended == SyncEventClosed {
				s.health.ended = "" // the event is open again
			}
		}
		if len(s.health.problems) == 0 && s.health.unreachable == nil {
			s.status.LastError = "" // nothing is wrong any more
		}
	case errors.Is(err, ErrNotPaired), errors.Is(err, context.Canceled):
		s.status.LastError = err.Error()
	case offline(err):
		s.health.unreachable = err
		s.status.LastError = err.Error()
	case op == "pair":
		// A refused pairing code changes nothing of the pairing in use.
		s.health.unreachable = nil
		s.status.LastError = err.Error()
	default:
		// The server answered; the answer was refused (or a local write
		// failed): degraded until this operation succeeds again.
		s.health.unreachable = nil
		if s.health.problems == nil {
			s.health.problems = map[string]error{}
		}
		s.health.problems[op] = err
		s.status.LastError = err.Error()
	}
}

// state computes the status's State; s.mu is held.
func (s *Syncer) state(paired bool) string {
	switch {
	case s.health.ended == SyncRevoked && !paired, s.health.ended == SyncEventClosed:
		return s.health.ended
	case !paired:
		return SyncUnpaired
	case s.health.unreachable != nil:
		return api.SyncOffline
	case len(s.health.problems) > 0 || s.db.WriteError() != nil:
		return api.SyncDegraded
	case !s.health.pulled:
		return api.SyncStarting
	}
	return api.SyncOnline
}

// Status returns the current sync status with fresh queue and gallery
// counts.
func (s *Syncer) Status() SyncStatus {
	paired := s.Paired()
	s.mu.Lock()
	st := s.status
	st.State = s.state(paired)
	st.Online = st.State == api.SyncOnline
	if st.Online {
		s.status.OfflineSince = time.Time{}
	} else if s.status.OfflineSince.IsZero() {
		s.status.OfflineSince = s.cfg.Now()
	}
	st.OfflineSince = s.status.OfflineSince
	if werr := s.db.WriteError(); werr != nil && st.LastError == "" {
		st.LastError = werr.Error()
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if n, err := s.db.OutboxLen(ctx); err == nil {
		st.Queued = n
	}
	if s.gallery != nil {
		st.Gallery = s.gallery.Len()
	} else if n, err := s.db.CountAttendees(ctx); err == nil {
		st.Gallery = n
	}
	return st
}

// emit sends the status to OnEvent.
func (s *Syncer) emit() {
	if s.cfg.OnEvent == nil {
		return
	}
	st := s.Status()
	s.mu.Lock()
	s.health.emitted = st
	s.mu.Unlock()
	s.cfg.OnEvent(Event{Kind: EventSync, At: s.cfg.Now(), Sync: &st})
}

// emitChanged sends the status to OnEvent when what the staff sees of it
// changed since the last one sent.
func (s *Syncer) emitChanged() {
	if s.cfg.OnEvent == nil {
		return
	}
	st := s.Status()
	s.mu.Lock()
	last := s.health.emitted
	s.mu.Unlock()
	if st.State == last.State && st.Queued == last.Queued && st.Gallery == last.Gallery &&
		st.LastError == last.LastError && st.LastSync.Equal(last.LastSync) {
		return
	}
	s.emit()
}
