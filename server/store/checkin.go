package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/facecheck/facecheck/api"
)

// RecordCheckIns stores a batch of check-ins from one kiosk of an event in
// one transaction and answers each: accepted (Repeat when the attendee had
// checked in before under another id), duplicate (the id was stored before;
// nothing changes, Repeat as first recorded) or rejected (the attendee is
// not of this event, or the id belongs to another event). Each id counts
// once however often it is replayed.
func (db *DB) RecordCheckIns(ctx context.Context, eventID, kioskID string, cs []api.CheckIn) ([]api.CheckInResult, error) {
	res := make([]api.CheckInResult, len(cs))
	now := ms(db.Now())
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		for i, c := range cs {
			r := api.CheckInResult{ID: c.ID}
			var attEvent string
			err := tx.QueryRowContext(ctx, `SELECT event_id FROM attendees WHERE id = $1`, c.AttendeeID).Scan(&attEvent)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && attEvent != eventID) {
				r.Status = api.StatusRejected
				res[i] = r
				continue
			}
			if err != nil {
				return err
			}
			ins, err := tx.ExecContext(ctx, `INSERT INTO checkins (id, event_id, attendee_id, kiosk_id, method, score, margin,
				checked_in_at, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
				c.ID, eventID, c.AttendeeID, nullString(kioskID), c.Method, c.Score, c.Margin, ms(c.At), now)
			if err != nil {
				return err
			}
			if n, err := ins.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				var ev string
				if err := tx.QueryRowContext(ctx, `SELECT event_id, is_repeat FROM checkins WHERE id = $1`, c.ID).Scan(&ev, &r.Repeat); err != nil {
					return err
				}
				r.Status = api.StatusDuplicate
				if ev != eventID {
					r.Status, r.Repeat = api.StatusRejected, false
				}
				res[i] = r
				continue
			}
			// The counter update locks the attendee row (PostgreSQL), so two
			// kiosks checking the same person in at once see 1 and 2.
			var count int
			if err := tx.QueryRowContext(ctx, `UPDATE attendees SET checkins = checkins + 1 WHERE id = $1 RETURNING checkins`,
				c.AttendeeID).Scan(&count); err != nil {
				return err
			}
			r.Status, r.Repeat = api.StatusAccepted, count > 1
			if r.Repeat {
				if _, err := tx.ExecContext(ctx, `UPDATE checkins SET is_repeat = TRUE WHERE id = $1`, c.ID); err != nil {
					return err
				}
			}
			res[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record check-ins: %w", err)
	}
	return res, nil
}

// CheckIn is a stored check-in.
type CheckIn struct {
	api.CheckIn
	EventID    string
	KioskID    string
	ReceivedAt time.Time
	Repeat     bool
}

// ListCheckIns returns an event's latest check-ins, newest first.
func (db *DB) ListCheckIns(ctx context.Context, eventID string, limit int) ([]*CheckIn, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, attendee_id, COALESCE(kiosk_id, ''), method, score, margin, checked_in_at,
		received_at, is_repeat FROM checkins WHERE event_id = $1 ORDER BY checked_in_at DESC, id DESC LIMIT $2`, eventID, limit)
	if err != nil {
		return nil, fmt.Errorf("list check-ins: %w", err)
	}
	defer rows.Close()
	var cs []*CheckIn
	for rows.Next() {
		c := &CheckIn{EventID: eventID}
		var at, recv int64
		if err := rows.Scan(&c.ID, &c.AttendeeID, &c.KioskID, &c.Method, &c.Score, &c.Margin, &at, &recv, &c.Repeat); err != nil {
			return nil, fmt.Errorf("list check-ins: %w", err)
		}
		c.At, c.ReceivedAt = fromMS(at), fromMS(recv)
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// EventStats counts an event's attendees, checked-in attendees, repeat
// check-ins and kiosks.
func (db *DB) EventStats(ctx context.Context, eventID string) (api.EventStats, error) {
	var s api.EventStats
	err := db.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM attendees WHERE event_id = $1 AND deleted_at IS NULL),
		(SELECT COUNT(DISTINCT attendee_id) FROM checkins WHERE event_id = $1),
		(SELECT COUNT(*) FROM checkins WHERE event_id = $1 AND is_repeat),
		(SELECT COUNT(*) FROM kiosks WHERE event_id = $1 AND NOT revoked)`, eventID).
		Scan(&s.Attendees, &s.CheckIns, &s.Repeats, &s.Kiosks)
	if err != nil {
		return s, fmt.Errorf("event stats: %w", err)
	}
	return s, nil
}
