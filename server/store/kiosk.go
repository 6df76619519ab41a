package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/facecheck/facecheck/api"
)

// Kiosk is a paired device.
type Kiosk struct {
	ID         string
	EventID    string
	Name       string
	AppVersion string
	Revoked    bool
	Queued     int
	Cursor     int64
	LastSeen   *time.Time
	CreatedAt  time.Time
	// From the kiosk's heartbeat (api.Heartbeat): its sync state, its last
	// fully successful sync, its last error, its gallery size, and its
	// queue at the heartbeat before (a queue that grows is worth a look).
	SyncState    string
	LastSync     *time.Time
	LastError    string
	Gallery      int
	QueuedBefore int
}

// API returns the admin view of k.
func (k *Kiosk) API() api.Kiosk {
	return api.Kiosk{ID: k.ID, EventID: k.EventID, Name: k.Name, AppVersion: k.AppVersion, Revoked: k.Revoked,
		Queued: k.Queued, Cursor: k.Cursor, LastSeen: k.LastSeen, CreatedAt: k.CreatedAt,
		SyncState: k.SyncState, LastSync: k.LastSync, LastError: k.LastError, Gallery: k.Gallery}
}

// pairingCodeLen is 10 Crockford characters, 50 bits: with the pair
// endpoint rate-limited and codes living minutes, guessing is hopeless.
const pairingCodeLen = 10

// CreatePairingCode creates a one-time pairing code for an event, valid for
// ttl. It returns the code as shown to the admin (two groups of 5 characters).
// ErrNotFound if the event does not exist.
func (db *DB) CreatePairingCode(ctx context.Context, eventID, createdBy string, ttl time.Duration) (string, time.Time, error) {
	if _, err := db.FindEventByID(ctx, eventID); err != nil {
		return "", time.Time{}, fmt.Errorf("create pairing code: %w", err)
	}
	code := randomCode(pairingCodeLen)
	now := db.Now()
	exp := now.Add(ttl).UTC().Truncate(time.Millisecond)
	if _, err := db.db.ExecContext(ctx, `INSERT INTO pairing_codes (code_hash, event_id, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, hashToken(code), eventID, createdBy, ms(now), ms(exp)); err != nil {
		return "", time.Time{}, fmt.Errorf("create pairing code: %w", err)
	}
	return code[:5] + "-" + code[5:], exp, nil
}

// Pair exchanges a pairing code for a new kiosk and its bearer token. The
// code is used up in the same transaction. ErrInvalidCredentials for an
// unknown or used code, ErrExpired for an expired one.
func (db *DB) Pair(ctx context.Context, code, deviceName, appVersion string) (*Kiosk, string, error) {
	codeHash := hashToken(api.NormalizeShortCode(code))
	token := "fck_" + randomToken(32)
	now := db.Now()
	k := &Kiosk{ID: newID(), Name: strings.TrimSpace(deviceName), AppVersion: appVersion, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var exp int64
		var used sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT event_id, expires_at, used_at FROM pairing_codes WHERE code_hash = $1`, codeHash).
			Scan(&k.EventID, &exp, &used)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && used.Valid) {
			return ErrInvalidCredentials
		}
		if err != nil {
			return err
		}
		if ms(now) >= exp {
			return ErrExpired
		}
		res, err := tx.ExecContext(ctx, `UPDATE pairing_codes SET used_at = $1, kiosk_id = $2 WHERE code_hash = $3 AND used_at IS NULL`,
			ms(now), k.ID, codeHash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrInvalidCredentials // raced with another pairing
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO kiosks (id, event_id, name, token_hash, app_version, created_at, last_seen)
			VALUES ($1, $2, $3, $4, $5, $6, $6)`, k.ID, k.EventID, k.Name, hashToken(token), appVersion, ms(now))
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("pair: %w", err)
	}
	k.LastSeen = &k.CreatedAt
	return k, token, nil
}

const kioskColumns = `id, event_id, name, app_version, revoked, queued, gallery_cursor, last_seen, created_at,
	sync_state, last_sync, last_error, gallery, queued_before`

func scanKiosk(s interface{ Scan(...any) error }) (*Kiosk, error) {
	var k Kiosk
	var last, lastSync sql.NullInt64
	var created int64
	if err := s.Scan(&k.ID, &k.EventID, &k.Name, &k.AppVersion, &k.Revoked, &k.Queued, &k.Cursor, &last, &created,
		&k.SyncState, &lastSync, &k.LastError, &k.Gallery, &k.QueuedBefore); err != nil {
		return nil, err
	}
	k.LastSeen = fromNullMS(last)
	k.LastSync = fromNullMS(lastSync)
	k.CreatedAt = fromMS(created)
	return &k, nil
}

// FindKioskByToken authenticates a bearer token: ErrInvalidCredentials if
// unknown, ErrRevoked if the kiosk was revoked.
func (db *DB) FindKioskByToken(ctx context.Context, token string) (*Kiosk, error) {
	k, err := scanKiosk(db.db.QueryRowContext(ctx, `SELECT `+kioskColumns+` FROM kiosks WHERE token_hash = $1`, hashToken(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("find kiosk: %w", err)
	}
	if k.Revoked {
		return nil, ErrRevoked
	}
	return k, nil
}

// FindKioskByID returns a kiosk, or ErrNotFound.
func (db *DB) FindKioskByID(ctx context.Context, id string) (*Kiosk, error) {
	k, err := scanKiosk(db.db.QueryRowContext(ctx, `SELECT `+kioskColumns+` FROM kiosks WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find kiosk: %w", err)
	}
	return k, nil
}

// ListKiosks returns an event's kiosks, oldest first.
func (db *DB) ListKiosks(ctx context.Context, eventID string) ([]*Kiosk, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+kioskColumns+` FROM kiosks WHERE event_id = $1 ORDER BY created_at, id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list kiosks: %w", err)
	}
	defer rows.Close()
	var ks []*Kiosk
	for rows.Next() {
		k, err := scanKiosk(rows)
		if err != nil {
			return nil, fmt.Errorf("list kiosks: %w", err)
		}
		ks = append(ks, k)
	}
	return ks, rows.Err()
}

// RevokeKiosk revokes a kiosk's token for good and, in the same
// transaction, rotates its event's template key (rotateEventKey): the
// revoked kiosk keeps the old key, which opens nothing the server sends
// from then on. The other kiosks fetch the new key on their next sync
// (GET /v1/key). Revoking a revoked kiosk changes nothing. ErrNotFound if
// unknown.
func (db *DB) RevokeKiosk(ctx context.Context, id string) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var eventID string
		var revoked bool
		err := tx.QueryRowContext(ctx, `SELECT event_id, revoked FROM kiosks WHERE id = $1`, id).Scan(&eventID, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil || revoked {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE kiosks SET revoked = TRUE, revoked_at = $1 WHERE id = $2`, ms(db.Now()), id); err != nil {
			return err
		}
		_, err = db.rotateEventKey(ctx, tx, eventID)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke kiosk: %w", err)
	}
	// The templates sealed under the old key leave the file and its WAL.
	if err := db.scrub(ctx); err != nil {
		return fmt.Errorf("revoke kiosk: %w", err)
	}
	return nil
}

// RecordHeartbeat stores a kiosk's status and marks it seen now.
func (db *DB) RecordHeartbeat(ctx context.Context, kioskID string, hb api.Heartbeat) error {
	var lastSync sql.NullInt64
	if !hb.LastSync.IsZero() {
		lastSync = sql.NullInt64{Int64: ms(hb.LastSync), Valid: true}
	}
	// queued_before takes the old queued: SET reads the row as it was.
	if _, err := db.db.ExecContext(ctx, `UPDATE kiosks SET app_version = $1, queued_before = queued, queued = $2, gallery_cursor = $3, last_seen = $4,
		sync_state = $5, last_sync = $6, last_error = $7, gallery = $8 WHERE id = $9`,
		hb.AppVersion, hb.Queued, hb.Cursor, ms(db.Now()), hb.State, lastSync, hb.LastError, hb.Gallery, kioskID); err != nil {
		return fmt.Errorf("record heartbeat: %w", err)
	}
	return nil
}

// TouchKiosk marks a kiosk seen now.
func (db *DB) TouchKiosk(ctx context.Context, kioskID string) error {
	if _, err := db.db.ExecContext(ctx, `UPDATE kiosks SET last_seen = $1 WHERE id = $2`, ms(db.Now()), kioskID); err != nil {
		return fmt.Errorf("touch kiosk: %w", err)
	}
	return nil
}
