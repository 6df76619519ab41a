package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/facecheck/facecheck/api"
)

// OutboxMail is an e-mail waiting in the outbox. Payload is what the
// server queued (opened from its seal); OpenErr is set instead when the
// seal does not open (a different server key), so the caller can drop it.
type OutboxMail struct {
	ID, EventID, AttendeeID string
	Payload                 []byte
	OpenErr                 error
	Attempts                int
	NextAt, CreatedAt       time.Time
	LastError               string
}

func mailAAD(id string) []byte { return []byte("facecheck-mail\x00" + id) }

func (db *DB) queueMail(ctx context.Context, tx *sql.Tx, eventID, attendeeID string, payload []byte, now time.Time) error {
	id := newID()
	sealed, err := api.Seal(db.key, payload, mailAAD(id))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO mail_outbox (id, event_id, attendee_id, payload, next_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $5)`, id, eventID, attendeeID, sealed, ms(now))
	return err
}

// DueMail returns up to limit e-mails whose next attempt is due, oldest
// first.
func (db *DB) DueMail(ctx context.Context, limit int) ([]OutboxMail, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, event_id, attendee_id, payload, attempts, next_at, last_error, created_at
		FROM mail_outbox WHERE next_at <= $1 ORDER BY next_at, id LIMIT $2`, ms(db.Now()), limit)
	if err != nil {
		return nil, fmt.Errorf("due mail: %w", err)
	}
	defer rows.Close()
	var out []OutboxMail
	for rows.Next() {
		var m OutboxMail
		var sealed []byte
		var next, created int64
		if err := rows.Scan(&m.ID, &m.EventID, &m.AttendeeID, &sealed, &m.Attempts, &next, &m.LastError, &created); err != nil {
			return nil, fmt.Errorf("due mail: %w", err)
		}
		m.NextAt, m.CreatedAt = fromMS(next), fromMS(created)
		if m.Payload, err = api.Open(db.key, sealed, mailAAD(m.ID)); err != nil {
			m.OpenErr = err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due mail: %w", err)
	}
	return out, nil
}

// MailQueue lists the outbox without payloads (tests, the dashboard).
func (db *DB) MailQueue(ctx context.Context) ([]OutboxMail, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, event_id, attendee_id, attempts, next_at, last_error, created_at
		FROM mail_outbox ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("mail queue: %w", err)
	}
	defer rows.Close()
	var out []OutboxMail
	for rows.Next() {
		var m OutboxMail
		var next, created int64
		if err := rows.Scan(&m.ID, &m.EventID, &m.AttendeeID, &m.Attempts, &next, &m.LastError, &created); err != nil {
			return nil, fmt.Errorf("mail queue: %w", err)
		}
		m.NextAt, m.CreatedAt = fromMS(next), fromMS(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// MailSent removes a sent e-mail (its sealed payload with it).
func (db *DB) MailSent(ctx context.Context, id string) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM mail_outbox WHERE id = $1`, id); err != nil {
		return fmt.Errorf("mail sent: %w", err)
	}
	return nil
}

// MailFailed records a failed attempt and when to try again. lastError
// must not hold the address (the caller redacts it).
func (db *DB) MailFailed(ctx context.Context, id string, next time.Time, lastError string) error {
	if len(lastError) > 300 {
		lastError = lastError[:300]
	}
	res, err := db.db.ExecContext(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, next_at = $1, last_error = $2 WHERE id = $3`,
		ms(next), lastError, id)
	if err != nil {
		return fmt.Errorf("mail failed: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("mail failed: %w", ErrNotFound)
	}
	return nil
}

// DropMail removes an e-mail that will not be sent (retries used up, the
// attendee gone).
func (db *DB) DropMail(ctx context.Context, id string) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM mail_outbox WHERE id = $1`, id); err != nil {
		return fmt.Errorf("drop mail: %w", err)
	}
	return nil
}

// DropAttendeeMail removes every queued e-mail to an attendee: on
// erasure, their address and links go with them.
func (db *DB) DropAttendeeMail(ctx context.Context, attendeeID string) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM mail_outbox WHERE attendee_id = $1`, attendeeID); err != nil {
		return fmt.Errorf("drop attendee mail: %w", err)
	}
	return nil
}
