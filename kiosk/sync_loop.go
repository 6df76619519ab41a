package kiosk

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/facecheck/facecheck/api"
)

// PullSettings fetches the event's kiosk settings and thresholds, stores
// the values as server defaults (local overrides keep winning) and returns
// them; applying the thresholds is the caller's business.
func (s *Syncer) PullSettings(ctx context.Context) (api.EventSettings, error) {
	s.round.Lock()
	defer s.round.Unlock()
	es, err := s.pullSettings(ctx)
	s.noteResult(err)
	return es, err
}

func (s *Syncer) pullSettings(ctx context.Context) (api.EventSettings, error) {
	var es api.EventSettings
	p, err := s.paired()
	if err != nil {
		return es, err
	}
	if err := s.doJSON(ctx, p.ServerURL, p.Token, http.MethodGet, api.Version+"/settings", "", nil, &es); err != nil {
		return es, fmt.Errorf("kiosk: pull settings: %w", err)
	}
	if es.EventID != "" && es.EventID != p.EventID {
		return es, fmt.Errorf("kiosk: pull settings: %w: settings of event %s, paired with %s", ErrProtocol, es.EventID, p.EventID)
	}
	values := map[string]string{}
	for k, v := range es.Values {
		values[k] = v
	}
	// The event's calibrated (or admin-pinned) thresholds become server
	// defaults of the threshold settings: they survive an offline restart,
	// and a threshold set locally on this kiosk still wins.
	if t := es.Thresholds; t.Accept > 0 && t.Confirm > 0 && t.Confirm <= t.Accept {
		values["face.accept"] = strconv.FormatFloat(float64(t.Accept), 'f', 4, 32)
		values["face.confirm"] = strconv.FormatFloat(float64(t.Confirm), 'f', 4, 32)
		if t.Margin > 0 {
			values["face.margin"] = strconv.FormatFloat(float64(t.Margin), 'f', 4, 32)
		}
	}
	if err := s.db.SetServerDefaults(ctx, values); err != nil {
		return es, fmt.Errorf("kiosk: pull settings: %w", err)
	}
	return es, nil
}

// Heartbeat reports the kiosk's queue and cursor to the server's dashboard.
func (s *Syncer) Heartbeat(ctx context.Context) error {
	p, err := s.paired()
	if err != nil {
		return err
	}
	q, err := s.db.OutboxLen(ctx)
	if err != nil {
		return err
	}
	cur, err := s.db.GetCursor(ctx)
	if err != nil {
		return err
	}
	err = s.doJSON(ctx, p.ServerURL, p.Token, http.MethodPost, api.Version+"/heartbeat", "",
		api.Heartbeat{AppVersion: s.cfg.AppVersion, Queued: q, Cursor: cur, At: s.cfg.Now().UTC()}, nil)
	if err != nil {
		return fmt.Errorf("kiosk: heartbeat: %w", err)
	}
	return nil
}

// --- loop and status ---------------------------------------------------------------

// RoundResult is what one SyncOnce did.
type RoundResult struct {
	Gallery  GalleryStats
	Push     PushStats
	Settings *api.EventSettings // nil when the pull failed
}

// SyncOnce runs one round: settings, gallery, outbox, heartbeat. Check-ins
// go out even when the gallery pull failed. When the server answers again
// after an outage, every queued item is sent at once, whatever its backoff.
// The status is updated and emitted; the first error is returned.
func (s *Syncer) SyncOnce(ctx context.Context) (RoundResult, error) {
	s.round.Lock()
	defer s.round.Unlock()
	var rr RoundResult
	wasOnline := s.Status().Online
	var errs []error
	es, err := s.pullSettings(ctx)
	if err == nil {
		rr.Settings = &es
	} else {
		errs = append(errs, err)
	}
	rr.Gallery, err = s.pullGallery(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	dueBy := s.cfg.Now()
	if len(errs) < 2 && !wasOnline {
		// The server answered again: do not wait for the outbox backoff.
		dueBy = dueBy.Add(100 * 365 * 24 * time.Hour)
	}
	rr.Push, err = s.push(ctx, dueBy)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		if err := s.Heartbeat(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		s.noteResult(errs[0])
	} else {
		s.noteResult(nil)
		s.mu.Lock()
		s.status.LastSync = s.cfg.Now()
		s.mu.Unlock()
	}
	s.emit()
	return rr, errors.Join(errs...)
}

// Kick asks a running Run loop to sync now (after a check-in, say). It
// never blocks.
func (s *Syncer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run syncs every interval (with ±10% jitter, and sooner after Kick) until
// ctx is done, then returns nil. Errors are reported through Status and
// OnEvent, not returned; Run returns ErrNotPaired at once if not paired.
// onSettings, when not nil, receives the event settings after each
// successful pull (to apply thresholds live).
func (s *Syncer) Run(ctx context.Context, interval time.Duration, onSettings func(api.EventSettings)) error {
	if !s.Paired() {
		return ErrNotPaired
	}
	if interval <= 0 {
		interval = 30 * time.Second
	}
	for {
		rr, err := s.SyncOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.cfg.Logger.Warn("sync: round failed", "err", err)
			if errors.Is(err, ErrUnauthorized) {
				s.cfg.Logger.Error("sync: " + ErrUnauthorized.Error())
			}
		}
		if rr.Settings != nil && onSettings != nil {
			onSettings(*rr.Settings)
		}
		wait := interval - interval/10 + rand.N(interval/5+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.kick:
			t.Stop()
		case <-t.C:
		}
	}
}
