package kiosk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/storage"
)

// keyChanged is a server answer sealed under another event key version
// than the kiosk's (api.HeaderKeyVersion): an admin revoked a kiosk and
// the server rotated the event key.
type keyChanged struct{ version int }

func (e *keyChanged) Error() string {
	return fmt.Sprintf("the server's event key is at version %d", e.version)
}

// keyVersionOf reads api.HeaderKeyVersion; false when absent (a server
// before key rotation) or not a positive number.
func keyVersionOf(resp *http.Response) (int, bool) {
	v, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get(api.HeaderKeyVersion)))
	return v, err == nil && v > 0
}

// adoptKey fetches the event's current key (GET /v1/key) after an answer
// announced another version. When the key itself changed, everything
// queued that is sealed under the old key (walk-up enrolments, captures)
// is sealed again under the new one in one transaction, the gallery
// cursor goes back to 0 so the next pull is the whole gallery (its
// short-code hashes are the new key's), and only then is the pairing file
// rewritten: a kiosk stopped half-way finds the old key in its pairing
// and does it again. It returns the new pairing and whether the key
// changed.
func (s *Syncer) adoptKey(ctx context.Context, p *Pairing) (*Pairing, bool, error) {
	var k api.EventKey
	if err := s.doJSON(ctx, p.ServerURL, p.Token, http.MethodGet, api.Version+"/key", "", nil, &k); err != nil {
		return nil, false, fmt.Errorf("kiosk: fetch the event key: %w", err)
	}
	switch {
	case k.EventID != "" && k.EventID != p.EventID:
		return nil, false, fmt.Errorf("kiosk: fetch the event key: %w: key of event %s, paired with %s", ErrProtocol, k.EventID, p.EventID)
	case len(k.TemplateKey) != api.KeySize || k.KeyVersion < 1:
		return nil, false, fmt.Errorf("kiosk: fetch the event key: %w: a %d-byte key at version %d", ErrProtocol, len(k.TemplateKey), k.KeyVersion)
	}
	np := *p
	np.TemplateKey, np.KeyVersion = k.TemplateKey, k.KeyVersion
	changed := !bytes.Equal(k.TemplateKey, p.TemplateKey)
	if changed {
		n, err := s.db.ResealOutbox(ctx, resealer(p.TemplateKey, k.TemplateKey))
		if err != nil {
			return nil, false, fmt.Errorf("kiosk: new event key: %w", err)
		}
		if err := s.db.SetCursor(ctx, 0); err != nil {
			return nil, false, fmt.Errorf("kiosk: new event key: %w", err)
		}
		what := fmt.Sprintf("the server rotated the event key (version %d → %d, a kiosk was revoked): %d queued items sealed again under the new key; the whole gallery is fetched again",
			p.KeyVersion, k.KeyVersion, n)
		s.cfg.Logger.Warn("sync: " + what)
		if err := s.db.Audit(ctx, "sync", "key.rotated", what); err != nil {
			s.cfg.Logger.Warn("sync: audit", "err", err)
		}
	}
	if err := SavePairing(s.cfg.PairingPath, &np); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	s.pairing = &np
	s.mu.Unlock()
	if changed && s.cfg.OnPairing != nil {
		s.cfg.OnPairing(s.Pairing())
	}
	return s.Pairing(), changed, nil
}

// resealer seals a queued item's templates again under key instead of old:
// an enrolment's template, a check-in's capture. An item that does not
// open with old is left as it is (already sealed under key by an adoption
// cut short, or unreadable: the push drops it), except a capture that
// opens with neither key, which goes (the server would drop it; the
// check-in itself still counts).
func resealer(old, key []byte) func(kind string, payload json.RawMessage) (json.RawMessage, error) {
	return func(kind string, payload json.RawMessage) (json.RawMessage, error) {
		switch kind {
		case storage.OutboxEnrol:
			var req api.EnrolRequest
			if json.Unmarshal(payload, &req) != nil {
				return nil, nil
			}
			st, err := api.ResealTemplate(old, key, req.ID, req.Template)
			if err != nil {
				return nil, nil
			}
			req.Template = st
			return json.Marshal(req)
		case storage.OutboxCheckIn:
			var c api.CheckIn
			if json.Unmarshal(payload, &c) != nil || c.Capture == nil {
				return nil, nil
			}
			st, err := api.ResealTemplate(old, key, c.AttendeeID, *c.Capture)
			if err != nil {
				if _, err := api.OpenTemplate(key, c.AttendeeID, *c.Capture); err == nil {
					return nil, nil
				}
				c.Capture = nil
			} else {
				c.Capture = &st
			}
			return json.Marshal(c)
		}
		return nil, nil
	}
}

// errResealed stops a push whose items were sealed again under a new
// event key meanwhile: the push reads them again.
var errResealed = errors.New("kiosk: the event key was rotated; queued items sealed again")

// checkRotated answers a refused template (422 template_invalid): when
// the server's key is another than the kiosk's, it adopts the new key and
// returns errResealed, so the item is sent again, sealed under it,
// instead of dropped. nil when the key is the same (the template really
// is bad).
func (s *Syncer) checkRotated(ctx context.Context, p *Pairing) error {
	_, changed, err := s.adoptKey(ctx, p)
	switch {
	case err != nil:
		return err
	case changed:
		return errResealed
	}
	return nil
}
