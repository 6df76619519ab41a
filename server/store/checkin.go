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
// not of this event or deleted, or the id belongs to another event). Each
// id counts once however often it is replayed.
func (db *DB) RecordCheckIns(ctx context.Context, eventID, kioskID string, cs []api.CheckIn) ([]api.CheckInResult, error) {
	res := make([]api.CheckInResult, len(cs))
	now := ms(db.Now())
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		for i, c := range cs {
			r := api.CheckInResult{ID: c.ID}
			// A deleted attendee's check-in (a kiosk offline since the
			// tombstone) is refused like an unknown one: it would count
			// someone whose data is gone.
			var attEvent string
			var deleted bool
			err := tx.QueryRowContext(ctx, `SELECT event_id, deleted_at IS NOT NULL FROM attendees WHERE id = $1`,
				c.AttendeeID).Scan(&attEvent, &deleted)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && (attEvent != eventID || deleted)) {
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
			if c.Capture != nil && api.CaptureMethod(c.Method) {
				if r.Captured, err = db.keepCapture(ctx, tx, eventID, c.AttendeeID, *c.Capture, now); err != nil {
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

// keepCapture stores capture (sealed by the kiosk under the event key for
// attendeeID) as the attendee's capture template, replacing an older one,
// and moves the attendee up the gallery feed so kiosks fetch it. It keeps
// nothing, without error, when the attendee did not consent, is deleted, or
// has no registration template of the capture's model and version. The
// caller has checked that the event allows captures and that the template
// opens.
func (db *DB) keepCapture(ctx context.Context, tx *sql.Tx, eventID, attendeeID string, capture api.SealedTemplate, now int64) (bool, error) {
	var consent bool
	err := tx.QueryRowContext(ctx, `SELECT capture_consent FROM attendees WHERE id = $1 AND deleted_at IS NULL`,
		attendeeID).Scan(&consent)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !consent) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM templates WHERE attendee_id = $1 AND source = 'enrol'
		AND model = $2 AND version = $3`, attendeeID, capture.Model, capture.Version).Scan(&n); err != nil {
		return false, err
	}
	if n == 0 {
		return false, nil
	}
	// The cursor first: it locks the event row, so a key rotation (a
	// kiosk revoked) is committed before the key is read, or waits.
	cur, err := nextCursor(ctx, tx, eventID)
	if err != nil {
		return false, err
	}
	key, err := db.currentKey(ctx, tx, eventID)
	if err != nil {
		return false, err
	}
	if _, err := api.OpenTemplate(key, attendeeID, capture); err != nil {
		// Sealed under a key rotated meanwhile: the check-in counts,
		// the capture is not kept (it would open for no kiosk).
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM templates WHERE attendee_id = $1 AND source = 'capture'`, attendeeID); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO templates (id, attendee_id, model, version, data, created_at, source)
		VALUES ($1, $2, $3, $4, $5, $6, 'capture')`, newID(), attendeeID, capture.Model, capture.Version, capture.Sealed, now); err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE attendees SET gallery_cursor = $1, updated_at = $2 WHERE id = $3`, cur, now, attendeeID)
	return err == nil, err
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
