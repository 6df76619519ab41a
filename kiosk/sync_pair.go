package kiosk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/facecheck/facecheck/api"
)

// Pairing returns a copy of the current pairing, or nil.
func (s *Syncer) Pairing() *Pairing {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pairing == nil {
		return nil
	}
	p := *s.pairing
	p.TemplateKey = append([]byte(nil), p.TemplateKey...)
	return &p
}

// Paired reports whether the kiosk has a pairing.
func (s *Syncer) Paired() bool { return s.Pairing() != nil }

// Pair exchanges a one-time pairing code at serverURL for a kiosk token and
// the event's template key, and saves them in the pairing file. When the
// kiosk was paired with another event or server before (or never), the
// local gallery is dropped so the next PullGallery fetches the new event's
// gallery in full; check-ins and the outbox are kept.
func (s *Syncer) Pair(ctx context.Context, serverURL, code, deviceName string) (*Pairing, error) {
	s.round.Lock()
	defer s.round.Unlock()
	base, err := checkServerURL(serverURL)
	if err != nil {
		return nil, fmt.Errorf("kiosk: pair: %w", err)
	}
	if strings.TrimSpace(code) == "" {
		return nil, errors.New("kiosk: pair: empty pairing code")
	}
	var resp api.PairResponse
	err = s.doJSON(ctx, base, "", http.MethodPost, api.Version+"/pair", "",
		api.PairRequest{Code: code, DeviceName: deviceName, AppVersion: s.cfg.AppVersion}, &resp)
	if err != nil {
		s.noteOp("pair", err)
		s.emitChanged()
		return nil, fmt.Errorf("kiosk: pair: %w", err)
	}
	p := &Pairing{ServerURL: base, KioskID: resp.KioskID, Token: resp.Token, EventID: resp.EventID,
		EventName: resp.EventName, TemplateKey: resp.TemplateKey, KeyVersion: resp.KeyVersion, PairedAt: s.cfg.Now().UTC()}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("kiosk: pair: %w: %v", ErrProtocol, err)
	}
	prev := s.Pairing()
	if prev == nil || prev.EventID != p.EventID || prev.ServerURL != p.ServerURL {
		if n, err := s.db.CountAttendees(ctx); err == nil && n > 0 {
			// Not silently: people enrolled only on this kiosk (or another
			// event's gallery) go, the new event's gallery replaces them.
			what := fmt.Sprintf("dropped the %d people of the local gallery: a paired kiosk recognises the event's gallery from the server; register local people there", n)
			if prev != nil {
				what = fmt.Sprintf("dropped the %d people of event %q's gallery for event %q's", n, prev.EventName, p.EventName)
			}
			s.cfg.Logger.Warn("sync: pair: " + what)
			if err := s.db.Audit(ctx, "pairing", "gallery.reset", what); err != nil {
				s.cfg.Logger.Warn("sync: audit pairing", "err", err)
			}
		}
		if err := s.db.ResetGallery(ctx); err != nil {
			return nil, fmt.Errorf("kiosk: pair: %w", err)
		}
		if s.gallery != nil {
			for _, id := range s.gallery.IDs() {
				s.gallery.Remove(id)
			}
		}
	}
	if err := SavePairing(s.cfg.PairingPath, p); err != nil {
		return nil, err
	}
	if err := s.db.Audit(ctx, "pairing", "kiosk.paired",
		fmt.Sprintf("paired as kiosk %s with event %q (%s) at %s", p.KioskID, p.EventName, p.EventID, p.ServerURL)); err != nil {
		s.cfg.Logger.Warn("sync: audit pairing", "err", err)
	}
	s.mu.Lock()
	s.pairing = p
	// A new pairing starts over: no gallery pulled from it yet, no
	// problems with it yet.
	s.health = syncHealth{}
	s.status.LastSync = time.Time{}
	s.mu.Unlock()
	s.noteOp("pair", nil)
	s.emit()
	return s.Pairing(), nil
}

// ErrLocalEnrolPaired refuses enrolling people into the local gallery of a
// paired kiosk (facecheck kiosk --enrol-first with --pair-code or a
// pairing file): a paired kiosk's gallery is the event's on the server,
// and the next full sync would drop people enrolled only here.
var ErrLocalEnrolPaired = errors.New("kiosk: --enrol-first enrols people into this kiosk's local gallery only, and a paired kiosk recognises the event's gallery from the server (the next full sync would drop them): register them on the server (registration page, CSV import, or the kiosk's staff mode, which sends walk-up enrolments), or enrol on an unpaired kiosk")

// CheckLocalEnrol returns ErrLocalEnrolPaired when the kiosk is paired (a
// pairing file at pairingPath) or is being paired (pairCode given), and
// nil when local enrolment is safe.
func CheckLocalEnrol(pairingPath, pairCode string) error {
	if strings.TrimSpace(pairCode) != "" {
		return ErrLocalEnrolPaired
	}
	switch _, err := LoadPairing(pairingPath); {
	case err == nil:
		return ErrLocalEnrolPaired
	case errors.Is(err, ErrNotPaired):
		return nil
	default:
		return err
	}
}
