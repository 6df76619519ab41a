package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// Wiped counts what WipeEventData erased.
type Wiped struct {
	Attendees int // people of the gallery, with their templates
	CheckIns  int // the kiosk's own check-in records
	// UnsentCheckIns and UnsentEnrolments were still in the outbox: the
	// server will never take them (a revoked kiosk, a closed event).
	UnsentCheckIns   int
	UnsentEnrolments int
	AuditEntries     int
}

// WipeEventData erases everything the kiosk holds of its event, in one
// transaction: the gallery (attendees and sealed templates, cursor back
// to 0), the check-ins, the outbox (check-ins and walk-up enrolments not
// sent, with names, e-mails and templates) and the audit log (it names
// people checked in by hand) but its earlier wipe entries. One audit entry
// then records the wipe, with why and the counts, and nothing personal;
// none when there was nothing to erase. Settings stay. secure_delete
// zeroes the rows and a TRUNCATE checkpoint empties the WAL, so none of
// it is left in the kiosk's files.
func (db *DB) WipeEventData(ctx context.Context, actor, why string) (Wiped, error) {
	var w Wiped
	err := db.update(ctx, "wipe event data", func(tx *sql.Tx) error {
		for _, c := range []struct {
			n   *int
			sql string
		}{
			{&w.Attendees, `SELECT count(*) FROM attendees`},
			{&w.CheckIns, `SELECT count(*) FROM checkins`},
			{&w.UnsentCheckIns, `SELECT count(*) FROM outbox WHERE kind = 'checkin'`},
			{&w.UnsentEnrolments, `SELECT count(*) FROM outbox WHERE kind = 'enrol'`},
			{&w.AuditEntries, `SELECT count(*) FROM audit_log WHERE action <> 'event.wiped'`},
		} {
			if err := tx.QueryRowContext(ctx, c.sql).Scan(c.n); err != nil {
				return err
			}
		}
		if err := resetGallery(ctx, tx); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM checkins`, `DELETE FROM outbox`, `DELETE FROM audit_log WHERE action <> 'event.wiped'`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		if w == (Wiped{}) {
			return nil // nothing was there: no entry (a closed event answers every round)
		}
		return insertAudit(ctx, tx, db.now(), actor, "event.wiped", fmt.Sprintf(
			"%s: erased %d people, %d check-ins (%d never sent to the server), %d walk-up enrolments never sent, %d audit entries",
			why, w.Attendees, w.CheckIns, w.UnsentCheckIns, w.UnsentEnrolments, w.AuditEntries))
	})
	if err != nil {
		return w, err
	}
	return w, db.scrub(ctx, "wipe event data")
}

// ResealOutbox rewrites the payload of every queued item with fn, in one
// transaction (the event key was rotated: what is queued must be sealed
// under the new one). fn returns the new payload, or nil to keep the item
// as it is; an error rolls everything back. It returns how many items
// changed.
func (db *DB) ResealOutbox(ctx context.Context, fn func(kind string, payload json.RawMessage) (json.RawMessage, error)) (int, error) {
	n := 0
	err := db.update(ctx, "reseal outbox", func(tx *sql.Tx) error {
		n = 0
		type item struct {
			seq           int64
			kind, payload string
		}
		var items []item
		rows, err := tx.QueryContext(ctx, `SELECT seq, kind, payload FROM outbox ORDER BY seq`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var it item
			if err := rows.Scan(&it.seq, &it.kind, &it.payload); err != nil {
				rows.Close()
				return err
			}
			items = append(items, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, it := range items {
			p, err := fn(it.kind, json.RawMessage(it.payload))
			if err != nil {
				return fmt.Errorf("outbox item %d: %w", it.seq, err)
			}
			if p == nil {
				continue
			}
			if !json.Valid(p) {
				return fmt.Errorf("outbox item %d: %w: the new payload is not JSON", it.seq, ErrInvalid)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET payload = ? WHERE seq = ?`, string(p), it.seq); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
