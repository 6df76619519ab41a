package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// LoadOrCreateKey returns the server key from path (64 hex characters),
// creating the file with a fresh key and 0600 permissions if it does not
// exist. The key seals every event's template key, so it must live outside
// the database and be backed up with it; a key file that other users may
// read or write is refused.
func LoadOrCreateKey(path string) ([]byte, error) {
	if err := checkPrivate(path); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := api.NewKey()
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create server key: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("write server key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write server key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read server key: %w", err)
	}
	return ParseKey(string(b))
}

// checkPrivate refuses a key file with any permission for group or others
// (a missing file is fine: it is created 0600). Windows has no such bits.
func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || runtime.GOOS == "windows" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("server key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("server key %s can be read or written by other users (mode %04o): run chmod 600 %s", path, perm, path)
	}
	return nil
}

// ParseKey decodes a server key written as 64 hex characters.
func ParseKey(s string) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != api.KeySize {
		return nil, fmt.Errorf("server key must be %d hex characters", 2*api.KeySize)
	}
	return key, nil
}

// Bootstrap is what a first start created.
type Bootstrap struct {
	// AdminCreated is set when the admin user was created; Password is its
	// password when it was generated (nobody else knows it).
	AdminCreated bool
	Username     string
	Password     string
	// Event is the event created because there was none.
	Event *store.Event
}

// RunBootstrap creates the first admin user when there is none (with
// password, or a generated one when empty) and a first event when there is
// none, named eventName.
func RunBootstrap(ctx context.Context, db *store.DB, username, password, eventName string) (Bootstrap, error) {
	var b Bootstrap
	n, err := db.CountAdmins(ctx)
	if err != nil {
		return b, err
	}
	if n == 0 {
		if username == "" {
			username = "admin"
		}
		b.Username = username
		if password == "" {
			buf := make([]byte, 12)
			if _, err := rand.Read(buf); err != nil {
				return b, err
			}
			password = hex.EncodeToString(buf)
			b.Password = password
		}
		if err := db.CreateAdmin(ctx, username, password); err != nil {
			return b, err
		}
		if err := db.AddAudit(ctx, store.AuditEntry{Actor: "bootstrap", Action: "admin.create", Target: username}); err != nil {
			return b, err
		}
		b.AdminCreated = true
	}
	es, err := db.ListEvents(ctx)
	if err != nil {
		return b, err
	}
	if len(es) == 0 && eventName != "" {
		if b.Event, err = db.CreateEvent(ctx, eventName); err != nil {
			return b, err
		}
	}
	return b, nil
}
