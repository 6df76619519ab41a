package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/facecheck/facecheck/api"
)

// errKeyRotated is a write that sealed data under an event key that was
// rotated meanwhile; the caller seals again under the new key.
var errKeyRotated = errors.New("the event key was rotated meanwhile")

// EventKey returns an event's template key and its version (1 for the key
// the event was created with; each rotation counts up). ErrNotFound if
// the event does not exist.
func (db *DB) EventKey(ctx context.Context, eventID string) ([]byte, int, error) {
	var sealed []byte
	var version int
	err := db.db.QueryRowContext(ctx, `SELECT template_key, key_version FROM events WHERE id = $1`, eventID).Scan(&sealed, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("event key: %w", err)
	}
	key, err := api.Open(db.key, sealed, eventKeyAAD(eventID))
	if err != nil {
		return nil, 0, fmt.Errorf("event %s: template key: %w (wrong server key?)", eventID, err)
	}
	return key, version, nil
}

// EventKeyVersion returns the version of an event's template key.
// ErrNotFound if the event does not exist.
func (db *DB) EventKeyVersion(ctx context.Context, eventID string) (int, error) {
	var v int
	err := db.db.QueryRowContext(ctx, `SELECT key_version FROM events WHERE id = $1`, eventID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("event key version: %w", err)
	}
	return v, nil
}

// currentKey reads an event's template key inside tx. Call it after the
// transaction locked the event row (nextCursor), so a rotation running at
// the same time is either committed and seen, or waits for tx.
func (db *DB) currentKey(ctx context.Context, tx *sql.Tx, eventID string) ([]byte, error) {
	var sealed []byte
	err := tx.QueryRowContext(ctx, `SELECT template_key FROM events WHERE id = $1`, eventID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	key, err := api.Open(db.key, sealed, eventKeyAAD(eventID))
	if err != nil {
		return nil, fmt.Errorf("event %s: template key: %w (wrong server key?)", eventID, err)
	}
	return key, nil
}

// checkKeyUnchanged fails with errKeyRotated when the event's key is no
// longer key (see currentKey for when to call it).
func (db *DB) checkKeyUnchanged(ctx context.Context, tx *sql.Tx, eventID string, key []byte) error {
	cur, err := db.currentKey(ctx, tx, eventID)
	if err != nil {
		return err
	}
	if !bytes.Equal(cur, key) {
		return errKeyRotated
	}
	return nil
}

// rotateEventKey gives an event a new template key inside tx: every
// template and every short code of the event is opened with the old key
// and sealed again under the new one, the short-code hashes the kiosks
// check are computed again, and the key version counts up. Whoever holds
// the old key (a revoked kiosk) opens nothing the server sends from now
// on. Tombstones hold no sealed data. It returns the new version.
func (db *DB) rotateEventKey(ctx context.Context, tx *sql.Tx, eventID string) (int, error) {
	// The UPDATE locks the event row first (PostgreSQL), as nextCursor
	// does: writers that seal under the key wait, then see the new one.
	var version int
	if err := tx.QueryRowContext(ctx, `UPDATE events SET key_version = key_version + 1 WHERE id = $1 RETURNING key_version`,
		eventID).Scan(&version); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, ErrNotFound
		}
		return 0, err
	}
	old, err := db.currentKey(ctx, tx, eventID)
	if err != nil {
		return 0, err
	}
	key, err := api.NewKey()
	if err != nil {
		return 0, err
	}
	type tpl struct {
		id, attendeeID, model string
		version               int
		data                  []byte
	}
	var ts []tpl
	rows, err := tx.QueryContext(ctx, `SELECT t.id, t.attendee_id, t.model, t.version, t.data
		FROM templates t JOIN attendees a ON a.id = t.attendee_id WHERE a.event_id = $1`, eventID)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var t tpl
		if err := rows.Scan(&t.id, &t.attendeeID, &t.model, &t.version, &t.data); err != nil {
			rows.Close()
			return 0, err
		}
		ts = append(ts, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, t := range ts {
		s, err := api.ResealTemplate(old, key, t.attendeeID, api.SealedTemplate{Model: t.model, Version: t.version, Sealed: t.data})
		if err != nil {
			return 0, fmt.Errorf("template %s of attendee %s: %w", t.id, t.attendeeID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE templates SET data = $1 WHERE id = $2`, s.Sealed, t.id); err != nil {
			return 0, err
		}
	}
	type code struct {
		attendeeID string
		sealed     []byte
	}
	var cs []code
	rows, err = tx.QueryContext(ctx, `SELECT id, code_sealed FROM attendees WHERE event_id = $1 AND code_sealed IS NOT NULL`, eventID)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var c code
		if err := rows.Scan(&c.attendeeID, &c.sealed); err != nil {
			rows.Close()
			return 0, err
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, c := range cs {
		plain, err := api.OpenEventData(old, c.sealed, shortCodeAAD(c.attendeeID))
		if err != nil {
			return 0, fmt.Errorf("short code of attendee %s: %w", c.attendeeID, err)
		}
		s, err := api.SealEventData(key, plain, shortCodeAAD(c.attendeeID))
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE attendees SET code_sealed = $1, code_hash = $2 WHERE id = $3`,
			s, api.HashShortCode(key, string(plain)), c.attendeeID); err != nil {
			return 0, err
		}
	}
	sealedKey, err := api.Seal(db.key, key, eventKeyAAD(eventID))
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE events SET template_key = $1 WHERE id = $2`, sealedKey, eventID); err != nil {
		return 0, err
	}
	return version, nil
}
