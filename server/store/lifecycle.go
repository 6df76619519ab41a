package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/facecheck/facecheck/api"
)

// Retention bounds, in days after an event's end.
const (
	DefaultRetentionDays = 30
	MaxRetentionDays     = 3650
)

// ErrPurged is a change to an event whose data was purged: it can only be
// deleted.
var ErrPurged = errors.New("event purged")

// Lifecycle is when an event ends and when its personal data goes. The
// purge is due RetentionDays after the event ended: at EndsAt, or when it
// was closed by hand if that came first. An event with neither is kept.
type Lifecycle struct {
	EndsAt        *time.Time
	RetentionDays int
	ClosedAt      *time.Time
	PurgedAt      *time.Time
}

// Closed reports whether the event refuses registration and kiosks: closed
// by hand or purged.
func (l Lifecycle) Closed() bool { return l.ClosedAt != nil || l.PurgedAt != nil }

// PurgeAt returns when the event's data is purged, nil while it has neither
// an end date nor a close.
func (l Lifecycle) PurgeAt() *time.Time {
	end := l.EndsAt
	if l.ClosedAt != nil && (end == nil || l.ClosedAt.Before(*end)) {
		end = l.ClosedAt
	}
	if end == nil {
		return nil
	}
	t := end.Add(time.Duration(l.RetentionDays) * 24 * time.Hour)
	return &t
}

func (l Lifecycle) api(e *api.Event) {
	e.EndsAt, e.RetentionDays, e.ClosedAt, e.PurgedAt, e.PurgeAt = l.EndsAt, l.RetentionDays, l.ClosedAt, l.PurgedAt, l.PurgeAt()
}

func (l Lifecycle) validate() error {
	if l.RetentionDays < 0 || l.RetentionDays > MaxRetentionDays {
		return fmt.Errorf("retention is %d days, want 0 to %d", l.RetentionDays, MaxRetentionDays)
	}
	return nil
}

// EventOption sets a new event's lifecycle (CreateEvent).
type EventOption func(*Event)

// WithEnd gives a new event its end date.
func WithEnd(t time.Time) EventOption {
	return func(e *Event) {
		t := t.UTC().Truncate(time.Millisecond)
		e.EndsAt = &t
	}
}

// WithRetention sets how many days after its end a new event's data is kept.
func WithRetention(days int) EventOption {
	return func(e *Event) { e.RetentionDays = days }
}

func nullMS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(*t), Valid: true}
}

// lockEvent reads an event in tx, locking its row on PostgreSQL (SQLite's
// transactions hold the write lock from BEGIN).
func (db *DB) lockEvent(ctx context.Context, tx *sql.Tx, id string) (*Event, error) {
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE"
	}
	e, err := db.scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return e, err
}

// SetEventLifecycle changes an event's end date and/or retention (nil
// leaves one as it is). ErrNotFound if there is no such event, ErrPurged
// once it was purged.
func (db *DB) SetEventLifecycle(ctx context.Context, id string, endsAt *time.Time, retentionDays *int) (*Event, error) {
	var e *Event
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = db.lockEvent(ctx, tx, id); err != nil {
			return err
		}
		if e.PurgedAt != nil {
			return ErrPurged
		}
		if endsAt != nil {
			WithEnd(*endsAt)(e)
		}
		if retentionDays != nil {
			e.RetentionDays = *retentionDays
		}
		if err := e.Lifecycle.validate(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE events SET ends_at = $1, retention_days = $2 WHERE id = $3`,
			nullMS(e.EndsAt), e.RetentionDays, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("set event lifecycle: %w", err)
	}
	return e, nil
}

// CloseEvent closes an event by hand: registration and kiosks are refused
// from now on, its pairing codes are dropped, its data stays until the
// purge. Closing a closed event again keeps the first close time.
// ErrNotFound if there is no such event.
func (db *DB) CloseEvent(ctx context.Context, id string) (*Event, error) {
	var e *Event
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = db.lockEvent(ctx, tx, id); err != nil {
			return err
		}
		if e.ClosedAt == nil {
			now := db.Now().UTC().Truncate(time.Millisecond)
			e.ClosedAt = &now
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET closed_at = $1 WHERE id = $2`, ms(*e.ClosedAt), id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM pairing_codes WHERE event_id = $1`, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("close event: %w", err)
	}
	return e, nil
}

// DueForPurge returns the ids of the events whose purge time (PurgeAt) is
// at or before now and that are not purged yet.
func (db *DB) DueForPurge(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, ends_at, retention_days, closed_at FROM events
		WHERE purged_at IS NULL AND (ends_at IS NOT NULL OR closed_at IS NOT NULL) ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("events due for purge: %w", err)
	}
	defer rows.Close()
	var due []string
	for rows.Next() {
		var (
			id            string
			l             Lifecycle
			ends, closedM sql.NullInt64
		)
		if err := rows.Scan(&id, &ends, &l.RetentionDays, &closedM); err != nil {
			return nil, fmt.Errorf("events due for purge: %w", err)
		}
		l.EndsAt, l.ClosedAt = fromNullMS(ends), fromNullMS(closedM)
		if at := l.PurgeAt(); at != nil && !at.After(now) {
			due = append(due, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events due for purge: %w", err)
	}
	return due, nil
}

// PurgeCounts is what a purge erased.
type PurgeCounts struct {
	Attendees  int // attendees with personal data
	Tombstones int // deleted attendees' rows
	Templates  int
	CheckIns   int
}

// PurgeEvent erases an event's personal data: attendees (names, e-mails,
// codes), their templates and tombstones, check-ins and pairing codes. The
// event's row stays, closed and marked purged, and so do its kiosks, so
// they are told the event is gone (410) rather than that their token is
// unknown. The audit entry (actor, the counts) is written in the same
// transaction. Purging a purged event again erases nothing and writes no
// entry, but makes the erasure hold again (a retry after a failed scrub).
// ErrNotFound if there is no such event.
//
// On SQLite the erased rows are zeroed and the WAL emptied (scrub); on
// PostgreSQL VACUUM marks the dead rows' space for reuse, their bytes stay
// in the table files until overwritten (docs/security.md).
func (db *DB) PurgeEvent(ctx context.Context, id, actor string) (PurgeCounts, error) {
	var c PurgeCounts
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		e, err := db.lockEvent(ctx, tx, id)
		if err != nil {
			return err
		}
		if e.PurgedAt != nil {
			return nil
		}
		err = tx.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM attendees WHERE event_id = $1 AND deleted_at IS NULL),
			(SELECT COUNT(*) FROM attendees WHERE event_id = $1 AND deleted_at IS NOT NULL),
			(SELECT COUNT(*) FROM templates WHERE attendee_id IN (SELECT id FROM attendees WHERE event_id = $1)),
			(SELECT COUNT(*) FROM checkins WHERE event_id = $1)`, id).
			Scan(&c.Attendees, &c.Tombstones, &c.Templates, &c.CheckIns)
		if err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM checkins WHERE event_id = $1`,
			`DELETE FROM mail_outbox WHERE event_id = $1`,
			`DELETE FROM templates WHERE attendee_id IN (SELECT id FROM attendees WHERE event_id = $1)`,
			`DELETE FROM attendees WHERE event_id = $1`,
			`DELETE FROM pairing_codes WHERE event_id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		now := db.Now().UTC().Truncate(time.Millisecond)
		if _, err := tx.ExecContext(ctx, `UPDATE events SET purged_at = $1, closed_at = COALESCE(closed_at, $1) WHERE id = $2`,
			ms(now), id); err != nil {
			return err
		}
		detail := fmt.Sprintf("purged: %d attendees, %d tombstones, %d templates, %d check-ins", c.Attendees, c.Tombstones, c.Templates, c.CheckIns)
		if at := e.PurgeAt(); at != nil {
			detail += fmt.Sprintf("; retention of %d days ended %s", e.RetentionDays, at.UTC().Format(time.RFC3339))
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor, action, target, detail, ip)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, newID(), ms(now), actor, "event.purge", id, detail, "")
		return err
	})
	if err != nil {
		return c, fmt.Errorf("purge event %s: %w", id, err)
	}
	if err := db.eraseHold(ctx, "attendees, templates, checkins, pairing_codes"); err != nil {
		return c, fmt.Errorf("purge event %s: %w", id, err)
	}
	return c, nil
}

// eraseHold makes an erasure of rows in tables (a fixed list, never input)
// hold: scrub on SQLite, VACUUM of the tables on PostgreSQL (it cannot run
// in a transaction).
func (db *DB) eraseHold(ctx context.Context, tables string) error {
	if db.dialect == Postgres {
		if _, err := db.db.ExecContext(ctx, `VACUUM `+tables); err != nil {
			return fmt.Errorf("vacuum: %w", err)
		}
		return nil
	}
	return db.scrub(ctx)
}
