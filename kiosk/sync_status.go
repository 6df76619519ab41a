package kiosk

import (
	"context"
	"errors"
	"time"
)

// noteResult updates online / offline since / last error from the outcome
// of a server call. A final 4xx answer still means the server is reachable.
func (s *Syncer) noteResult(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	var he *HTTPError
	switch {
	case err == nil:
		s.status.Online, s.status.OfflineSince, s.status.LastError = true, time.Time{}, ""
	case errors.Is(err, ErrNotPaired), errors.Is(err, context.Canceled):
		s.status.LastError = err.Error()
	case errors.As(err, &he) && he.Status < 500 && !errors.Is(err, ErrOffline):
		s.status.Online, s.status.OfflineSince = true, time.Time{}
		s.status.LastError = err.Error()
	default:
		if s.status.Online || s.status.OfflineSince.IsZero() {
			s.status.OfflineSince = now
		}
		s.status.Online = false
		s.status.LastError = err.Error()
	}
}

// Status returns the current sync status with fresh queue and gallery
// counts.
func (s *Syncer) Status() SyncStatus {
	s.mu.Lock()
	st := s.status
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

func (s *Syncer) emit() {
	if s.cfg.OnEvent == nil {
		return
	}
	st := s.Status()
	s.cfg.OnEvent(Event{Kind: EventSync, At: s.cfg.Now(), Sync: &st})
}
