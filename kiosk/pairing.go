package kiosk

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/facecheck/facecheck/api"
)

// ErrNotPaired is returned by the Syncer's server calls before the kiosk is
// paired (no pairing file).
var ErrNotPaired = errors.New("kiosk: not paired with a server: run with --server URL --pair-code CODE")

// Pairing is what a kiosk keeps after POST /v1/pair.
//
// It lives in its own small JSON file with 0600 permissions (by default next
// to the storage key file, see PairingPathFor), never in the SQLite database:
// TemplateKey opens the event's sealed templates and Token authenticates the
// kiosk, so a copied database file must reveal neither.
type Pairing struct {
	ServerURL   string `json:"server_url"`
	KioskID     string `json:"kiosk_id"`
	Token       string `json:"token"`
	EventID     string `json:"event_id"`
	EventName   string `json:"event_name"`
	TemplateKey []byte `json:"template_key"`
	// KeyVersion is TemplateKey's version (api.EventKey); 0 when the
	// server did not say.
	KeyVersion int       `json:"key_version,omitempty"`
	PairedAt   time.Time `json:"paired_at"`
}

func (p *Pairing) validate() error {
	switch {
	case p.ServerURL == "":
		return errors.New("no server URL")
	case p.Token == "":
		return errors.New("no token")
	case p.EventID == "":
		return errors.New("no event id")
	case len(p.TemplateKey) != api.KeySize:
		return fmt.Errorf("template key is %d bytes, want %d", len(p.TemplateKey), api.KeySize)
	case p.KeyVersion < 0:
		return fmt.Errorf("key version %d", p.KeyVersion)
	}
	if _, err := checkServerURL(p.ServerURL); err != nil {
		return err
	}
	return nil
}

// PairingPathFor returns the default pairing file for a storage key file:
// "kiosk.key" → "kiosk.pairing.json" in the same directory.
func PairingPathFor(keyPath string) string {
	dir, base := filepath.Split(keyPath)
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = base[:len(base)-len(ext)]
	}
	return filepath.Join(dir, base+".pairing.json")
}

// LoadPairing reads the pairing file at path. A missing file returns an
// error wrapping ErrNotPaired; a file readable by group or others is refused
// (outside Windows) with a message saying how to fix it.
func LoadPairing(path string) (*Pairing, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (no %s)", ErrNotPaired, path)
	}
	if err != nil {
		return nil, fmt.Errorf("kiosk: pairing file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("kiosk: pairing file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("kiosk: pairing file %s has permissions %04o, want 0600 (it holds the kiosk token and the template key): run chmod 600 %q", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kiosk: pairing file: %w", err)
	}
	var p Pairing
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("kiosk: pairing file %s is damaged (%v): pair the kiosk again", path, err)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("kiosk: pairing file %s: %w: pair the kiosk again", path, err)
	}
	return &p, nil
}

// SavePairing writes p to path atomically (temporary file, fsync, rename)
// with 0600 permissions.
func SavePairing(path string, p *Pairing) error {
	if err := p.validate(); err != nil {
		return fmt.Errorf("kiosk: save pairing: %v", err)
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("kiosk: save pairing: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("kiosk: save pairing: %w", err)
	}
	f, err := os.CreateTemp(dir, ".pairing-*.tmp")
	if err != nil {
		return fmt.Errorf("kiosk: save pairing: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		return fmt.Errorf("kiosk: save pairing: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("kiosk: save pairing: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("kiosk: save pairing: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("kiosk: save pairing: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("kiosk: save pairing: %w", err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
