package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/facecheck/facecheck/api"
)

// Outbox kinds.
const (
	OutboxCheckIn = "checkin" // Payload is an api.CheckIn
	OutboxEnrol   = "enrol"   // Payload is an api.EnrolRequest
)

// maxErrorLen bounds the stored last_error, so a server answering with a
// megabyte of HTML cannot bloat the database.
const maxErrorLen = 1024

// OutboxItem is one queued message for the server.
type OutboxItem struct {
	Seq  int64
	Kind string // OutboxCheckIn or OutboxEnrol
	// Ref is the payload's idempotency key (check-in or enrolment id).
	Ref           string
	Payload       json.RawMessage
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
}

// enqueue adds a message to the outbox unless one with the same kind and ref
// is already queued; queued reports which.
func enqueue(ctx context.Context, tx *sql.Tx, kind, ref string, payload []byte, now string) (queued bool, err error) {
	res, err := tx.ExecContext(ctx, `
		INSERT INTO outbox (kind, ref, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, ref) DO NOTHING`,
		kind, ref, string(payload), now, now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if n > 0 && err == nil {
		enqueuedIn.Store(tx, true) // update signals OutboxAdded once tx commits
	}
	return n > 0, err
}

// enqueuedIn holds the write transactions that queued an outbox item, so
// update signals OutboxAdded after they commit (enqueue runs inside the
// callers' transactions and cannot see the commit).
var enqueuedIn sync.Map // *sql.Tx → true

// OutboxAdded is signalled (without blocking; one pending signal at most)
// after a transaction that queued an outbox item committed: the sync
// worker sends a check-in within moments instead of at its next round.
func (db *DB) OutboxAdded() <-chan struct{} { return db.outboxAdded }

// QueueEnrolment queues a walk-up enrolment for the server and notes it in
// the audit log, in one transaction. req.ID is the idempotency key: queueing
// an ID that is still queued returns duplicate = true and changes nothing;
// once sent, the server recognises a replayed ID. It returns ErrInvalid for a request
// without id, name, consent or sealed template.
func (db *DB) QueueEnrolment(ctx context.Context, req api.EnrolRequest) (duplicate bool, err error) {
	switch {
	case strings.TrimSpace(req.ID) == "":
		err = fmt.Errorf("%w: enrolment without id", ErrInvalid)
	case strings.TrimSpace(req.Name) == "":
		err = fmt.Errorf("%w: enrolment %s has no name", ErrInvalid, req.ID)
	case !req.Consent:
		err = fmt.Errorf("%w: enrolment %s has no consent: a template is only kept with the person's consent", ErrInvalid, req.ID)
	case len(req.Template.Sealed) == 0:
		err = fmt.Errorf("%w: enrolment %s has no sealed template", ErrInvalid, req.ID)
	}
	if err != nil {
		return false, fmt.Errorf("storage: queue enrolment: %w", err)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return false, fmt.Errorf("storage: queue enrolment %s: %w", req.ID, err)
	}
	err = db.update(ctx, "queue enrolment "+req.ID, func(tx *sql.Tx) error {
		now := db.now()
		queued, err := enqueue(ctx, tx, OutboxEnrol, req.ID, payload, now)
		if err != nil {
			return err
		}
		if !queued {
			duplicate = true
			return nil
		}
		return insertAudit(ctx, tx, now, "kiosk", "enrol.queued", fmt.Sprintf("enrolment %s queued (consent given)", req.ID))
	})
	if err != nil {
		return false, err
	}
	return duplicate, nil
}

// PendingOutbox returns up to limit items due at now (next attempt at or
// before now), oldest first; limit <= 0 means 100.
func (db *DB) PendingOutbox(ctx context.Context, limit int, now time.Time) ([]OutboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT seq, kind, ref, payload, attempts, next_attempt_at, last_error, created_at
		FROM outbox WHERE next_attempt_at <= ? ORDER BY seq LIMIT ?`, formatTime(now), limit)
	if err != nil {
		return nil, wrap("pending outbox", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		var it OutboxItem
		var payload, next, created string
		if err := rows.Scan(&it.Seq, &it.Kind, &it.Ref, &payload, &it.Attempts, &next, &it.LastError, &created); err != nil {
			return nil, wrap("pending outbox", err)
		}
		it.Payload = json.RawMessage(payload)
		if it.NextAttemptAt, err = parseTime(next); err != nil {
			return nil, wrap("pending outbox", err)
		}
		if it.CreatedAt, err = parseTime(created); err != nil {
			return nil, wrap("pending outbox", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("pending outbox", err)
	}
	return out, nil
}

// MarkSent removes delivered items from the outbox and stamps their
// check-ins as synced, in one transaction. Unknown seqs are ignored, so
// marking an item twice is harmless.
func (db *DB) MarkSent(ctx context.Context, seqs ...int64) error {
	if len(seqs) == 0 {
		return nil
	}
	return db.update(ctx, "mark sent", func(tx *sql.Tx) error {
		now := db.now()
		for _, seq := range seqs {
			if _, err := tx.ExecContext(ctx, `
				UPDATE checkins SET synced_at = ?
				WHERE id = (SELECT ref FROM outbox WHERE seq = ? AND kind = 'checkin')`, now, seq); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE seq = ?`, seq); err != nil {
				return err
			}
		}
		return nil
	})
}

// MarkFailed records a failed delivery of item seq: it counts the attempt,
// keeps cause's message (truncated to 1 KiB) and schedules the next attempt
// at next. It returns ErrNotFound if seq is not in the outbox.
func (db *DB) MarkFailed(ctx context.Context, seq int64, cause error, next time.Time) error {
	msg := ""
	if cause != nil {
		msg = cause.Error()
	}
	if len(msg) > maxErrorLen {
		msg = strings.ToValidUTF8(msg[:maxErrorLen], "") + "…"
	}
	return db.update(ctx, fmt.Sprintf("mark outbox item %d failed", seq), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE seq = ?`,
			msg, formatTime(next), seq)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("outbox item %d: %w", seq, ErrNotFound)
		}
		return nil
	})
}

// OutboxLen returns the number of items waiting in the outbox, due or not.
func (db *DB) OutboxLen(ctx context.Context) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		return 0, wrap("outbox length", err)
	}
	return n, nil
}
