package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/facecheck/facecheck/api"
)

// UpdateThresholds applies fn to an event's thresholds inside one
// transaction, so a recalibration never overwrites a pin an admin made in
// the meantime (SQLite transactions take the write lock at BEGIN; on
// PostgreSQL the row is locked FOR UPDATE). fn returns false to leave them
// as they are. It returns the event as it is afterwards and whether it
// changed; ErrNotFound if the event does not exist.
func (db *DB) UpdateThresholds(ctx context.Context, id string, fn func(api.Thresholds) (api.Thresholds, bool)) (*Event, bool, error) {
	var (
		e       *Event
		changed bool
	)
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE"
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = db.scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`+lock, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		th, ok := fn(e.Thresholds)
		if !ok {
			return nil
		}
		b, err := json.Marshal(th)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET thresholds = $1 WHERE id = $2`, string(b), id); err != nil {
			return err
		}
		e.Thresholds, changed = th, true
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("update thresholds: %w", err)
	}
	return e, changed, nil
}
