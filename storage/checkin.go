package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
)

// RecordCheckIn stores c and queues it in the outbox for the server, both in
// one transaction: once it returns nil the check-in is on disk (synchronous
// FULL) and will be sent. c.ID is the idempotency key: recording an ID that
// is already stored changes nothing and returns duplicate = true (the first
// record wins even if the fields differ). A zero c.At is set to now. It
// returns ErrInvalid (wrapping a *facecheck.CheckInError) for a check-in
// facecheck.ValidateCheckIn refuses, and ErrDiskFull when the disk is full.
func (db *DB) RecordCheckIn(ctx context.Context, c api.CheckIn) (duplicate bool, err error) {
	if err := facecheck.ValidateCheckIn(c); err != nil {
		// The server's rule: what it would refuse is never queued.
		return false, fmt.Errorf("storage: record check-in %q: %w: %w", c.ID, ErrInvalid, err)
	}
	now := db.Now()
	if c.At.IsZero() {
		c.At = now
	}
	// The payload and the row carry the same UTC time, to the nanosecond.
	c.At = c.At.UTC()
	payload, err := json.Marshal(c)
	if err != nil {
		return false, fmt.Errorf("storage: record check-in %s: %w", c.ID, err)
	}
	err = db.update(ctx, "record check-in "+c.ID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO checkins (id, attendee_id, method, score, margin, at, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			c.ID, c.AttendeeID, c.Method, float64(c.Score), float64(c.Margin), formatTime(c.At), formatTime(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			duplicate = true
			return nil
		}
		_, err = enqueue(ctx, tx, OutboxCheckIn, c.ID, payload, formatTime(now))
		return err
	})
	if err != nil {
		return false, err
	}
	return duplicate, nil
}

// CheckIn is a stored check-in with the kiosk-side bookkeeping.
type CheckIn struct {
	api.CheckIn
	// RecordedAt is when this kiosk stored it.
	RecordedAt time.Time
	// SyncedAt is when the server acknowledged it; zero while queued.
	SyncedAt time.Time
}

// FindCheckIn returns the check-in with id, or ErrNotFound.
func (db *DB) FindCheckIn(ctx context.Context, id string) (CheckIn, error) {
	var c CheckIn
	var score, margin float64
	var at, recorded string
	var synced sql.NullString
	err := db.read.QueryRowContext(ctx, `
		SELECT id, attendee_id, method, score, margin, at, recorded_at, synced_at
		FROM checkins WHERE id = ?`, id).
		Scan(&c.ID, &c.AttendeeID, &c.Method, &score, &margin, &at, &recorded, &synced)
	if errors.Is(err, sql.ErrNoRows) {
		return CheckIn{}, fmt.Errorf("storage: find check-in %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return CheckIn{}, wrap("find check-in "+id, err)
	}
	c.Score, c.Margin = float32(score), float32(margin)
	if c.At, err = parseTime(at); err != nil {
		return CheckIn{}, wrap("find check-in "+id, err)
	}
	if c.RecordedAt, err = parseTime(recorded); err != nil {
		return CheckIn{}, wrap("find check-in "+id, err)
	}
	if synced.Valid {
		if c.SyncedAt, err = parseTime(synced.String); err != nil {
			return CheckIn{}, wrap("find check-in "+id, err)
		}
	}
	return c, nil
}

// HasCheckedIn reports whether attendeeID has a check-in at or after since,
// for repeat detection.
func (db *DB) HasCheckedIn(ctx context.Context, attendeeID string, since time.Time) (bool, error) {
	var ok bool
	err := db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM checkins WHERE attendee_id = ? AND at >= ?)`,
		attendeeID, formatTime(since)).Scan(&ok)
	if err != nil {
		return false, wrap("has checked in "+attendeeID, err)
	}
	return ok, nil
}

// CountCheckIns returns the number of check-ins at or after since (zero since
// counts them all).
func (db *DB) CountCheckIns(ctx context.Context, since time.Time) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM checkins WHERE at >= ?`, formatTime(since)).Scan(&n)
	if err != nil {
		return 0, wrap("count check-ins", err)
	}
	return n, nil
}
