package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Links are the secrets of an attendee's e-mail: the withdraw link's token
// and, while the attendee is pending, the confirmation link's token with
// its expiry. Only their sha256 hashes are stored.
type Links struct {
	ManageToken    string
	ConfirmToken   string // empty when the attendee is not pending
	ConfirmExpires time.Time
}

// IssueLinks gives an attendee a new withdraw token and, when they are
// pending, a new confirmation token valid for ttl; the links of an
// earlier e-mail stop working. In the same transaction it queues the
// e-mail that carries them: payload(links) is sealed into the outbox, so
// the tokens exist in clear nowhere else. ErrNotFound for an unknown or
// deleted attendee.
func (db *DB) IssueLinks(ctx context.Context, attendeeID string, ttl time.Duration, payload func(Links) ([]byte, error)) (Links, error) {
	var l Links
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var eventID string
		var pending bool
		err := tx.QueryRowContext(ctx, `SELECT event_id, pending FROM attendees WHERE id = $1 AND deleted_at IS NULL`,
			attendeeID).Scan(&eventID, &pending)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		now := db.Now().UTC().Truncate(time.Millisecond)
		l = Links{ManageToken: randomToken(24)}
		confirmHash, expires := sql.NullString{}, sql.NullInt64{}
		if pending {
			l.ConfirmToken, l.ConfirmExpires = randomToken(24), now.Add(ttl)
			confirmHash = sql.NullString{String: hashToken(l.ConfirmToken), Valid: true}
			expires = sql.NullInt64{Int64: ms(l.ConfirmExpires), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE attendees SET manage_token_hash = $1, confirm_token_hash = $2, confirm_expires_at = $3
			WHERE id = $4`, hashToken(l.ManageToken), confirmHash, expires, attendeeID); err != nil {
			return err
		}
		p, err := payload(l)
		if err != nil {
			return err
		}
		return db.queueMail(ctx, tx, eventID, attendeeID, p, now)
	})
	if err != nil {
		return Links{}, fmt.Errorf("issue links: %w", err)
	}
	return l, nil
}

// findByConfirmToken is the pending attendee a confirmation token belongs
// to: ErrInvalidCredentials for an unknown or used token (or a deleted
// attendee), ErrExpired past its expiry.
func (db *DB) findByConfirmToken(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, token string) (*Attendee, error) {
	if token == "" {
		return nil, ErrInvalidCredentials
	}
	a, err := scanAttendee(q.QueryRowContext(ctx, `SELECT `+attendeeColumns+` FROM attendees a
		WHERE a.confirm_token_hash = $1 AND a.pending AND a.deleted_at IS NULL`, hashToken(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, err
	}
	var expires sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT confirm_expires_at FROM attendees WHERE id = $1`, a.ID).Scan(&expires); err != nil {
		return nil, err
	}
	if !expires.Valid || !db.Now().Before(fromMS(expires.Int64)) {
		return nil, ErrExpired
	}
	return a, nil
}

// PendingByConfirmToken returns the attendee a confirmation link is for,
// without using it up (the page that asks to confirm).
func (db *DB) PendingByConfirmToken(ctx context.Context, token string) (*Attendee, error) {
	a, err := db.findByConfirmToken(ctx, db.db, token)
	if err != nil {
		return nil, fmt.Errorf("confirmation: %w", err)
	}
	return a, nil
}

// ConfirmAttendee uses up a confirmation token: the attendee stops being
// pending and enters the gallery feed at a new cursor, so kiosks get them
// on their next sync. A second use answers ErrInvalidCredentials.
func (db *DB) ConfirmAttendee(ctx context.Context, token string) (*Attendee, error) {
	var a *Attendee
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = db.findByConfirmToken(ctx, tx, token); err != nil {
			return err
		}
		cur, err := nextCursor(ctx, tx, a.EventID)
		if err != nil {
			return err
		}
		now := db.Now().UTC().Truncate(time.Millisecond)
		if _, err := tx.ExecContext(ctx, `UPDATE attendees SET pending = FALSE, confirm_token_hash = NULL, confirm_expires_at = NULL,
			gallery_cursor = $1, updated_at = $2 WHERE id = $3`, cur, ms(now), a.ID); err != nil {
			return err
		}
		a.Cursor, a.UpdatedAt = cur, now
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("confirm attendee: %w", err)
	}
	return a, nil
}

// AttendeePending reports whether an attendee waits for the confirmation
// of their address.
func (db *DB) AttendeePending(ctx context.Context, id string) (bool, error) {
	var p bool
	err := db.db.QueryRowContext(ctx, `SELECT pending FROM attendees WHERE id = $1`, id).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("attendee pending: %w", ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("attendee pending: %w", err)
	}
	return p, nil
}

// FindAttendeeByEmail returns the live attendee of an event with this
// address (compared lower-cased, as stored), or ErrNotFound.
func (db *DB) FindAttendeeByEmail(ctx context.Context, eventID, email string) (*Attendee, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil, ErrNotFound
	}
	a, err := scanAttendee(db.db.QueryRowContext(ctx, `SELECT `+attendeeColumns+` FROM attendees a
		WHERE a.event_id = $1 AND a.email = $2 AND a.deleted_at IS NULL`, eventID, email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find attendee by e-mail: %w", err)
	}
	return a, nil
}

// ReleaseExpiredPending erases the attendee of an event who registered
// with email but let the confirmation link expire, so the address can be
// registered again (someone may have typed another person's address). It
// reports whether there was one.
func (db *DB) ReleaseExpiredPending(ctx context.Context, eventID, email string) (bool, error) {
	var id string
	err := db.db.QueryRowContext(ctx, `SELECT id FROM attendees WHERE event_id = $1 AND email = $2 AND deleted_at IS NULL
		AND pending AND (confirm_expires_at IS NULL OR confirm_expires_at <= $3)`,
		eventID, strings.ToLower(strings.TrimSpace(email)), ms(db.Now())).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("release expired registration: %w", err)
	}
	if err := db.DropAttendeeMail(ctx, id); err != nil {
		return false, err
	}
	if err := db.DeleteAttendee(ctx, id); err != nil {
		return false, fmt.Errorf("release expired registration: %w", err)
	}
	return true, nil
}

// EventConfirmsEmail reports whether new web registrations of the event
// wait until the attendee confirms their address (on by default).
func (db *DB) EventConfirmsEmail(ctx context.Context, eventID string) (bool, error) {
	var on bool
	err := db.db.QueryRowContext(ctx, `SELECT confirm_email FROM events WHERE id = $1`, eventID).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("event confirms e-mail: %w", ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("event confirms e-mail: %w", err)
	}
	return on, nil
}

// SetEventConfirmsEmail turns the confirmation of new registrations' addresses
// on or off; registrations already pending stay pending.
func (db *DB) SetEventConfirmsEmail(ctx context.Context, eventID string, on bool) error {
	res, err := db.db.ExecContext(ctx, `UPDATE events SET confirm_email = $1 WHERE id = $2`, on, eventID)
	if err != nil {
		return fmt.Errorf("set event confirms e-mail: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("set event confirms e-mail: %w", ErrNotFound)
	}
	return nil
}

// PendingAttendees returns the ids of the event's attendees who have not
// confirmed their address yet (the dashboard marks them).
func (db *DB) PendingAttendees(ctx context.Context, eventID string) (map[string]bool, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id FROM attendees WHERE event_id = $1 AND pending AND deleted_at IS NULL`, eventID)
	if err != nil {
		return nil, fmt.Errorf("pending attendees: %w", err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("pending attendees: %w", err)
		}
		ids[id] = true
	}
	return ids, rows.Err()
}
