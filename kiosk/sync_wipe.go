package kiosk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/storage"
)

// Sync states after the server ended the kiosk's part in its event
// (SyncStatus.State, never sent in a heartbeat).
const (
	// SyncRevoked: an admin revoked the kiosk. Its gallery, check-ins,
	// outbox, pairing and event key are wiped; it must be paired again.
	SyncRevoked = "revoked"
	// SyncEventClosed: the event was closed or purged. Its gallery,
	// check-ins and outbox are wiped on the kiosk.
	SyncEventClosed = "event_closed"
)

// endOf returns the state a server answer ends the kiosk in: SyncRevoked
// for 401 token_revoked, SyncEventClosed for 410 event_closed, else "".
// An unknown token (401 token_invalid) wipes nothing: a server restored
// from an old backup answers so too, and the kiosk keeps its check-ins
// for it.
func endOf(err error) string {
	var he *HTTPError
	if !errors.As(err, &he) || he.Problem == nil {
		return ""
	}
	switch {
	case he.Status == http.StatusUnauthorized && he.Problem.Code == api.CodeTokenRevoked:
		return SyncRevoked
	case he.Status == http.StatusGone && he.Problem.Code == api.CodeEventClosed:
		return SyncEventClosed
	}
	return ""
}

// react wipes what err's answer asks for (endOf) and reports whether it
// did; the round stops then.
func (s *Syncer) react(ctx context.Context, err error) bool {
	end := endOf(err)
	if end == "" {
		return false
	}
	if werr := s.wipe(ctx, end); werr != nil {
		s.cfg.Logger.Error("sync: wipe", "state", end, "err", werr)
	}
	return true
}

// wipe erases the event's data on the kiosk (storage.WipeEventData: the
// gallery, check-ins, outbox and audit log, unrecoverable from its
// files) and empties the in-memory gallery; for SyncRevoked also the
// pairing file with the token and the event key. Check-ins and walk-up
// enrolments not yet sent go too: the server refuses every call of a
// revoked kiosk and of a closed event, so they could never arrive; the
// log and the audit entry count them.
func (s *Syncer) wipe(ctx context.Context, end string) error {
	why := "the event was closed on the server (410 " + api.CodeEventClosed + ")"
	if end == SyncRevoked {
		why = "the server revoked this kiosk (401 " + api.CodeTokenRevoked + ")"
	}
	w, err := s.db.WipeEventData(context.WithoutCancel(ctx), "sync", why)
	if s.gallery != nil {
		for _, id := range s.gallery.IDs() {
			s.gallery.Remove(id)
		}
	}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if end == SyncRevoked {
		if err := erasePairing(s.cfg.PairingPath); err != nil {
			errs = append(errs, err)
		}
	}
	s.mu.Lock()
	if end == SyncRevoked {
		s.pairing = nil
	}
	s.health = syncHealth{ended: end, emitted: s.health.emitted}
	s.status.LastError = fmt.Sprintf("%s: the event's data on this kiosk was erased", why)
	if end == SyncRevoked {
		s.status.LastError += ", with its pairing and key: pair it again"
	}
	s.mu.Unlock()
	if w != (storage.Wiped{}) {
		s.cfg.Logger.Error("sync: "+why+"; erased the event's data on this kiosk", "people", w.Attendees, "checkins", w.CheckIns,
			"unsent_checkins", w.UnsentCheckIns, "unsent_enrolments", w.UnsentEnrolments, "pairing_erased", end == SyncRevoked)
	}
	if end == SyncRevoked && s.cfg.OnPairing != nil {
		s.cfg.OnPairing(nil)
	}
	s.emit()
	return errors.Join(errs...)
}

// erasePairing overwrites the pairing file (the token and the event key)
// with zeros, syncs it and removes it, so neither stays in the file's
// blocks for a plain read of the disk; stray temporary files of
// SavePairing go too.
func erasePairing(path string) error {
	var errs []error
	paths := []string{path}
	if tmps, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".pairing-*.tmp")); err == nil {
		paths = append(paths, tmps...)
	}
	for _, p := range paths {
		if err := zeroAndRemove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("kiosk: erase pairing: %w", err))
		}
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return errors.Join(errs...)
}

func zeroAndRemove(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil {
		_, err = f.WriteAt(make([]byte, fi.Size()), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Remove(path)
}
