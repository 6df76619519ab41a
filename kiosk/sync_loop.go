package kiosk

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/facecheck/facecheck/api"
)

// PullSettings fetches the event's kiosk settings and thresholds, stores
// the values as server defaults (local overrides keep winning) and returns
// them; applying the thresholds is the caller's business.
func (s *Syncer) PullSettings(ctx context.Context) (api.EventSettings, error) {
	s.round.Lock()
	defer s.round.Unlock()
	es, err := s.pullSettings(ctx)
	s.noteOp("settings", err)
	s.emitChanged()
	s.react(ctx, err)
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

// Heartbeat reports the kiosk's sync status (state, queue, cursor, last
// successful sync, last error, gallery size) to the server's dashboard.
func (s *Syncer) Heartbeat(ctx context.Context) error {
	p, err := s.paired()
	if err != nil {
		return err
	}
	cur, err := s.db.GetCursor(ctx)
	if err != nil {
		return err
	}
	st := s.Status()
	err = s.doJSON(ctx, p.ServerURL, p.Token, http.MethodPost, api.Version+"/heartbeat", "",
		api.Heartbeat{AppVersion: s.cfg.AppVersion, Queued: st.Queued, Cursor: cur, At: s.cfg.Now().UTC(),
			State: st.State, LastSync: st.LastSync.UTC(), LastError: clip(st.LastError, maxHeartbeatError), Gallery: st.Gallery}, nil)
	if err != nil {
		return fmt.Errorf("kiosk: heartbeat: %w", err)
	}
	return nil
}

// maxHeartbeatError bounds the error text a heartbeat carries (the server
// refuses longer ones).
const maxHeartbeatError = 500

// clip makes s one line (the server refuses control characters: joined
// errors become "; "-separated) of at most n bytes, cut at a rune boundary.
func clip(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// --- loop and status ---------------------------------------------------------------

// RoundResult is what one SyncOnce did.
type RoundResult struct {
	Gallery  GalleryStats
	Push     PushStats
	Settings *api.EventSettings // nil when the pull failed
}

// SyncOnce runs one round: settings, gallery, outbox, heartbeat. Check-ins
// go out even when the gallery pull failed. When the server answered
// again after an outage, every queued item is sent at once, whatever its
// backoff. The heartbeat carries the round's status to the dashboard
// unless the server could not be reached. The status is updated after
// every call and emitted; the errors are returned.
func (s *Syncer) SyncOnce(ctx context.Context) (RoundResult, error) {
	s.round.Lock()
	defer s.round.Unlock()
	var rr RoundResult
	wasOnline := s.Status().Online
	var errs []error
	// step notes an operation's outcome; false when the server ended the
	// kiosk's part in the event (revoked, event closed) and the kiosk
	// wiped its data: the round stops.
	step := func(op string, err error) bool {
		s.noteOp(op, err)
		s.emitChanged()
		if err != nil {
			errs = append(errs, err)
		}
		return !s.react(ctx, err)
	}
	es, err := s.pullSettings(ctx)
	if err == nil {
		rr.Settings = &es
	}
	if !step("settings", err) {
		return rr, errors.Join(errs...)
	}
	rr.Gallery, err = s.pullGallery(ctx)
	if !step("gallery", err) {
		return rr, errors.Join(errs...)
	}
	dueBy := s.cfg.Now()
	if len(errs) < 2 && !wasOnline {
		// The server answered again: do not wait for the outbox backoff.
		dueBy = dueBy.Add(ignoreBackoff)
	}
	rr.Push, err = s.push(ctx, dueBy)
	if !step("push", err) {
		return rr, errors.Join(errs...)
	}
	if len(errs) == 0 {
		s.mu.Lock()
		s.status.LastSync = s.cfg.Now()
		s.mu.Unlock()
	}
	if ctx.Err() == nil && s.Status().State != api.SyncOffline {
		step("heartbeat", s.Heartbeat(ctx))
	}
	s.emit()
	return rr, errors.Join(errs...)
}

// Kick asks a running Run loop for a whole round now. It never blocks.
func (s *Syncer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// pushDebounce is how long Run waits after a check-in was queued before it
// pushes, so that a burst (a group walking up) goes out in one batch.
const pushDebounce = 200 * time.Millisecond

// Run syncs every interval (with ±10% jitter, and at once after Kick)
// until ctx is done, then returns nil. Between rounds, a check-in or
// enrolment queued in the database (storage.DB.OutboxAdded) is pushed
// within pushDebounce, so the dashboard sees it in a second or two.
// Errors are reported through Status and OnEvent, not returned; Run
// returns ErrNotPaired at once if not paired. onSettings, when not nil,
// receives the event settings after each successful pull (to apply
// thresholds live).
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
		if !s.Paired() {
			return nil // revoked and wiped: nothing to sync until paired again
		}
		if !s.waitRound(ctx, interval-interval/10+rand.N(interval/5+1)) {
			return nil
		}
	}
}

// waitRound waits wait for the next round, pushing the outbox whenever
// something is queued meanwhile; false when ctx ended.
func (s *Syncer) waitRound(ctx context.Context, wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-s.kick:
			return true
		case <-t.C:
			return true
		case <-s.db.OutboxAdded():
			if !sleep(ctx, pushDebounce, nil) {
				return false
			}
			if _, err := s.PushCheckIns(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn("sync: push after a check-in failed", "err", err)
				if endOf(err) != "" {
					return true // pushNoted wiped: the next round shows it
				}
			}
			if ctx.Err() == nil && s.Status().State != api.SyncOffline {
				// The dashboard's queue column follows the push.
				s.round.Lock()
				err := s.Heartbeat(ctx)
				s.round.Unlock()
				s.noteOp("heartbeat", err)
				s.emitChanged()
			}
		}
	}
}
