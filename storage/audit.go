package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// AuditEntry is one line of the audit log: who changed what, when.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string // "admin", "server", "storage", a staff name...
	Action string // e.g. "setting.set", "checkin.manual"
	Detail string
}

// Audit appends an entry to the audit log. It returns ErrInvalid for an
// empty actor or action.
func (db *DB) Audit(ctx context.Context, actor, action, detail string) error {
	if strings.TrimSpace(actor) == "" || strings.TrimSpace(action) == "" {
		return fmt.Errorf("storage: audit: %w: actor and action are required", ErrInvalid)
	}
	return db.update(ctx, "audit "+action, func(tx *sql.Tx) error {
		return insertAudit(ctx, tx, db.now(), actor, action, detail)
	})
}

func insertAudit(ctx context.Context, tx *sql.Tx, at, actor, action, detail string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)`,
		at, actor, action, detail)
	return err
}

// ListAudit returns the newest limit entries of the audit log, newest first;
// limit <= 0 means 100.
func (db *DB) ListAudit(ctx context.Context, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, wrap("list audit", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, wrap("list audit", err)
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, wrap("list audit", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list audit", err)
	}
	return out, nil
}
