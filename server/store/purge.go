package store

import (
	"context"
	"database/sql"
	"fmt"
)

// DeleteEvent erases an event and everything recorded for it: attendees
// (templates, personal data and tombstones), check-ins, kiosks and pairing
// codes. The audit log keeps what was done, by ids. Kiosks of the event
// are unpaired by it (their tokens no longer exist). ErrNotFound if there
// is no such event.
//
// On SQLite the erased rows are zeroed and the WAL emptied (scrub). On
// PostgreSQL a VACUUM of the tables follows, so the dead rows' space is
// marked for reuse; their bytes stay in the files until overwritten or a
// VACUUM FULL (docs/security.md).
func (db *DB) DeleteEvent(ctx context.Context, id string) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE id = $1`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		for _, q := range []string{
			`DELETE FROM checkins WHERE event_id = $1`,
			`DELETE FROM mail_outbox WHERE event_id = $1`,
			`DELETE FROM templates WHERE attendee_id IN (SELECT id FROM attendees WHERE event_id = $1)`,
			`DELETE FROM attendees WHERE event_id = $1`,
			`DELETE FROM pairing_codes WHERE event_id = $1`,
			`DELETE FROM kiosks WHERE event_id = $1`,
			`DELETE FROM events WHERE id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete event %s: %w", id, err)
	}
	if db.dialect == Postgres {
		// VACUUM cannot run in a transaction; it only needs the tables.
		if _, err := db.db.ExecContext(ctx, `VACUUM attendees, templates, checkins, kiosks, pairing_codes, events`); err != nil {
			return fmt.Errorf("delete event %s: vacuum: %w", id, err)
		}
		return nil
	}
	if err := db.scrub(ctx); err != nil {
		return fmt.Errorf("delete event %s: %w", id, err)
	}
	return nil
}
