package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/facecheck/facecheck/api"
)

// KeySize is the length of the template key in bytes (AES-256).
const KeySize = api.KeySize

// ErrWrongKey is returned by Open when the key cannot open what the database
// was sealed with, and by template reads when a sealed template cannot be
// opened.
var ErrWrongKey = errors.New("template key does not match this database: restore the key file it was created with, or move the database aside so the kiosk rebuilds its gallery from the server")

// LoadOrCreateKey returns the 32-byte template key stored in the file at path,
// creating the file with 0600 permissions and a fresh random key if it does
// not exist. Keep the file outside the database's directory where possible:
// a copied database without it reveals no templates.
//
// It refuses (with an error saying how to fix it) a key file that is not a
// regular file, is readable or writable by group or others, or does not hold
// exactly 32 bytes. On Windows the permission bits are not meaningful and are
// not checked; the file relies on the ACL of the user's profile directory.
func LoadOrCreateKey(path string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("storage: key file: %w: empty path", ErrInvalid)
	}
	key, err := readKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	if err := writeKey(path, key); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process created it between our read and write.
			return readKey(path)
		}
		return nil, fmt.Errorf("storage: create key file %s: %w", path, classify(err))
	}
	return key, nil
}

func readKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("storage: key file %s is not a regular file (%s): point the kiosk at the key file itself", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("storage: key file %s has permissions %04o, want 0600 (only its owner may read it): run chmod 600 %s", path, perm, strconv.Quote(path))
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("storage: key file %s holds %d bytes, want %d: it is not a facecheck template key; restore the original key file, or delete it together with the database to start afresh", path, len(key), KeySize)
	}
	return key, nil
}

// writeKey creates path exclusively with 0600 and syncs it and its directory,
// so a key whose database rows exist is never lost to a power cut.
func writeKey(path string, key []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Never leave a short key file behind: it would be refused next time.
		return errors.Join(err, os.Remove(path))
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		// Best effort: directories cannot be synced on every platform.
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// keyCheckPlain is sealed into meta on first open; opening it later proves
// the key is the one the database was created with, before any template is
// read.
var keyCheckPlain = []byte("facecheck storage key check v1")

const metaKeyCheck = "key_check"

func (db *DB) checkKey(ctx context.Context) error {
	return db.update(ctx, "check key", func(tx *sql.Tx) error {
		var sealed []byte
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaKeyCheck).Scan(&sealed)
		if errors.Is(err, sql.ErrNoRows) {
			s, err := api.Seal(db.key, keyCheckPlain, []byte(metaKeyCheck))
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, metaKeyCheck, s)
			return err
		}
		if err != nil {
			return err
		}
		plain, err := api.Open(db.key, sealed, []byte(metaKeyCheck))
		if err == nil && bytes.Equal(plain, keyCheckPlain) {
			return nil
		}
		if !db.resetOnWrongKey {
			return fmt.Errorf("%s: %w", db.path, ErrWrongKey)
		}
		// The templates are unreadable without their key, but the check-ins
		// and the outbox are not: drop the gallery, keep the rest.
		if err := resetGallery(ctx, tx); err != nil {
			return err
		}
		s, err := api.Seal(db.key, keyCheckPlain, []byte(metaKeyCheck))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = ?`, s, metaKeyCheck); err != nil {
			return err
		}
		return insertAudit(ctx, tx, db.now(), "storage", "gallery.reset", "template key changed: gallery dropped, it is pulled again on the next sync")
	})
}

// templateAAD binds a sealed template to its attendee, model and version, so
// a blob copied to another row fails to open.
func templateAAD(attendeeID, model string, version int) []byte {
	return fmt.Appendf(nil, "facecheck-storage-template\x00%s\x00%s\x00%d", attendeeID, model, version)
}

func (db *DB) sealTemplate(attendeeID string, t api.Template) ([]byte, error) {
	return api.Seal(db.key, t.Data, templateAAD(attendeeID, t.Model, t.Version))
}

func (db *DB) openTemplate(attendeeID, model string, version int, sealed []byte) ([]byte, error) {
	data, err := api.Open(db.key, sealed, templateAAD(attendeeID, model, version))
	if err != nil {
		return nil, fmt.Errorf("template of attendee %s: %w: %w", attendeeID, ErrWrongKey, err)
	}
	return data, nil
}
