package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/facecheck/facecheck/api"
)

// TemplateBytes is the length of a raw template: 512 unsigned bytes (int8
// value + 128), as engine.Template.Bytes returns it.
const TemplateBytes = 512

// Attendee is one person of the event's gallery as the kiosk caches it.
type Attendee struct {
	ID   string
	Name string
	// Info is the badge / seat line shown on the welcome screen.
	Info string
	// CodeHash verifies the short code or QR code for second verification.
	CodeHash string
	// CaptureConsent is the attendee's consent to the event keeping the
	// capture of a confirmed check-in (api.GalleryRecord.CaptureConsent):
	// without it the kiosk sends no capture of them.
	CaptureConsent bool
	// UpdatedAt is when the kiosk stored this version; zero means now.
	UpdatedAt time.Time
}

// GalleryTemplate is one opened template, ready for the in-memory gallery
// (engine.TemplateFromBytes(Model, Version, Data)).
type GalleryTemplate struct {
	AttendeeID string
	Model      string
	Version    int
	Data       []byte
}

// GalleryUpsert is an attendee and the complete set of their templates.
type GalleryUpsert struct {
	Attendee  Attendee
	Templates []api.Template
}

func validateAttendee(a Attendee, ts []api.Template) error {
	if strings.TrimSpace(a.ID) == "" {
		return fmt.Errorf("%w: attendee without id", ErrInvalid)
	}
	if strings.TrimSpace(a.Name) == "" {
		return fmt.Errorf("%w: attendee %s has no name", ErrInvalid, a.ID)
	}
	for i, t := range ts {
		switch {
		case t.Model == "":
			return fmt.Errorf("%w: template %d of attendee %s has no model id", ErrInvalid, i, a.ID)
		case t.Version <= 0:
			return fmt.Errorf("%w: template %d of attendee %s has version %d", ErrInvalid, i, a.ID, t.Version)
		case len(t.Data) != TemplateBytes:
			return fmt.Errorf("%w: template %d of attendee %s is %d bytes, want %d", ErrInvalid, i, a.ID, len(t.Data), TemplateBytes)
		}
	}
	return nil
}

// UpsertAttendee stores a and replaces all of a's templates with templates,
// sealed under the database's key, in one transaction. It returns ErrInvalid
// for a missing id or name or a template that is not TemplateBytes long.
func (db *DB) UpsertAttendee(ctx context.Context, a Attendee, templates []api.Template) error {
	if err := validateAttendee(a, templates); err != nil {
		return fmt.Errorf("storage: upsert attendee: %w", err)
	}
	return db.update(ctx, "upsert attendee "+a.ID, func(tx *sql.Tx) error {
		return db.upsertAttendee(ctx, tx, a, templates)
	})
}

func (db *DB) upsertAttendee(ctx context.Context, tx *sql.Tx, a Attendee, templates []api.Template) error {
	at := a.UpdatedAt
	if at.IsZero() {
		at = db.Now()
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO attendees (id, name, name_fold, info, code_hash, capture_consent, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			name = excluded.name, name_fold = excluded.name_fold, info = excluded.info,
			code_hash = excluded.code_hash, capture_consent = excluded.capture_consent,
			updated_at = excluded.updated_at`,
		a.ID, a.Name, fold(a.Name), a.Info, a.CodeHash, a.CaptureConsent, formatTime(at))
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM templates WHERE attendee_id = ?`, a.ID); err != nil {
		return err
	}
	for _, t := range templates {
		sealed, err := db.sealTemplate(a.ID, t)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO templates (attendee_id, model, version, sealed) VALUES (?, ?, ?, ?)`,
			a.ID, t.Model, t.Version, sealed); err != nil {
			return err
		}
	}
	return nil
}

// DeleteAttendee applies a tombstone: it deletes the attendee and every
// template of theirs. Their check-ins stay. It returns ErrNotFound if the
// attendee is not stored.
func (db *DB) DeleteAttendee(ctx context.Context, id string) error {
	err := db.update(ctx, "delete attendee "+id, func(tx *sql.Tx) error {
		n, err := deleteAttendee(ctx, tx, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("attendee %s: %w", id, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return db.scrub(ctx, "delete attendee "+id)
}

func deleteAttendee(ctx context.Context, tx *sql.Tx, id string) (int64, error) {
	// Explicit rather than relying on ON DELETE CASCADE alone: a template must
	// never outlive its tombstone, even on a connection without foreign keys.
	if _, err := tx.ExecContext(ctx, `DELETE FROM templates WHERE attendee_id = ?`, id); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM attendees WHERE id = ?`, id)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

const attendeeColumns = `id, name, info, code_hash, capture_consent, updated_at`

func scanAttendee(sc interface{ Scan(...any) error }) (Attendee, error) {
	var a Attendee
	var at string
	if err := sc.Scan(&a.ID, &a.Name, &a.Info, &a.CodeHash, &a.CaptureConsent, &at); err != nil {
		return Attendee{}, err
	}
	t, err := parseTime(at)
	if err != nil {
		return Attendee{}, err
	}
	a.UpdatedAt = t
	return a, nil
}

// FindAttendee returns the attendee with id, or ErrNotFound.
func (db *DB) FindAttendee(ctx context.Context, id string) (Attendee, error) {
	a, err := scanAttendee(db.read.QueryRowContext(ctx, `SELECT `+attendeeColumns+` FROM attendees WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Attendee{}, fmt.Errorf("storage: find attendee %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Attendee{}, wrap("find attendee "+id, err)
	}
	return a, nil
}

// ListAttendees returns every attendee ordered by name.
func (db *DB) ListAttendees(ctx context.Context) ([]Attendee, error) {
	return db.queryAttendees(ctx, "list attendees", `SELECT `+attendeeColumns+` FROM attendees ORDER BY name_fold, id`)
}

// SearchAttendees returns up to limit attendees whose name contains query,
// ignoring case (Unicode-aware), names starting with it first. An empty
// query returns nothing; limit <= 0 means 20.
func (db *DB) SearchAttendees(ctx context.Context, query string, limit int) ([]Attendee, error) {
	q := fold(strings.TrimSpace(query))
	if q == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = 20
	}
	return db.queryAttendees(ctx, "search attendees", `
		SELECT `+attendeeColumns+` FROM attendees
		WHERE instr(name_fold, ?1) > 0
		ORDER BY instr(name_fold, ?1) <> 1, name_fold, id
		LIMIT ?2`, q, limit)
}

func (db *DB) queryAttendees(ctx context.Context, op, query string, args ...any) ([]Attendee, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []Attendee
	for rows.Next() {
		a, err := scanAttendee(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// CountAttendees returns the number of attendees in the local gallery.
func (db *DB) CountAttendees(ctx context.Context) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM attendees`).Scan(&n); err != nil {
		return 0, wrap("count attendees", err)
	}
	return n, nil
}

// EachTemplate opens every stored template and calls fn with it, in attendee
// and insertion order, stopping at fn's first error. A template that cannot
// be opened stops it with an error wrapping ErrWrongKey. The GalleryTemplate
// passed to fn is fn's to keep.
func (db *DB) EachTemplate(ctx context.Context, fn func(GalleryTemplate) error) error {
	rows, err := db.read.QueryContext(ctx, `SELECT attendee_id, model, version, sealed FROM templates ORDER BY attendee_id, id`)
	if err != nil {
		return wrap("read templates", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t GalleryTemplate
		var sealed []byte
		if err := rows.Scan(&t.AttendeeID, &t.Model, &t.Version, &sealed); err != nil {
			return wrap("read templates", err)
		}
		if t.Data, err = db.openTemplate(t.AttendeeID, t.Model, t.Version, sealed); err != nil {
			return wrap("read templates", err)
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	return wrap("read templates", rows.Err())
}

// AllTemplates returns every stored template, opened, for loading the
// in-memory gallery. See EachTemplate for errors.
func (db *DB) AllTemplates(ctx context.Context) ([]GalleryTemplate, error) {
	var out []GalleryTemplate
	err := db.EachTemplate(ctx, func(t GalleryTemplate) error {
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const metaCursor = "gallery_cursor"

// GetCursor returns the gallery delta-feed cursor; 0 before the first sync.
func (db *DB) GetCursor(ctx context.Context) (int64, error) {
	var c int64
	err := db.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaCursor).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap("get cursor", err)
	}
	return c, nil
}

// SetCursor stores the gallery delta-feed cursor.
func (db *DB) SetCursor(ctx context.Context, cursor int64) error {
	return db.update(ctx, "set cursor", func(tx *sql.Tx) error {
		return setCursor(ctx, tx, cursor)
	})
}

func setCursor(ctx context.Context, tx *sql.Tx, cursor int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, metaCursor, cursor)
	return err
}

// ApplyGalleryDelta applies one complete delta feed in a single transaction:
// it stores upserts (replacing each attendee's templates), applies deletes as
// tombstones (unknown ids are fine) and moves the cursor to newCursor. Either
// all of it is stored or none of it. Collapse the feed to each attendee's
// last operation first: an id appearing twice is ErrInvalid.
func (db *DB) ApplyGalleryDelta(ctx context.Context, upserts []GalleryUpsert, deletes []string, newCursor int64) error {
	seen := make(map[string]bool, len(upserts)+len(deletes))
	for _, u := range upserts {
		if err := validateAttendee(u.Attendee, u.Templates); err != nil {
			return fmt.Errorf("storage: apply gallery delta: %w", err)
		}
		if seen[u.Attendee.ID] {
			return fmt.Errorf("storage: apply gallery delta: %w: attendee %s appears twice", ErrInvalid, u.Attendee.ID)
		}
		seen[u.Attendee.ID] = true
	}
	for _, id := range deletes {
		if seen[id] {
			return fmt.Errorf("storage: apply gallery delta: %w: attendee %s appears twice", ErrInvalid, id)
		}
		seen[id] = true
	}
	err := db.update(ctx, "apply gallery delta", func(tx *sql.Tx) error {
		for _, u := range upserts {
			if err := db.upsertAttendee(ctx, tx, u.Attendee, u.Templates); err != nil {
				return err
			}
		}
		for _, id := range deletes {
			if _, err := deleteAttendee(ctx, tx, id); err != nil {
				return err
			}
		}
		return setCursor(ctx, tx, newCursor)
	})
	if err != nil || len(deletes) == 0 {
		return err
	}
	return db.scrub(ctx, "apply gallery delta")
}

// ResetGallery deletes every attendee and template and sets the cursor back
// to 0, so the next sync pulls the full gallery (after the kiosk is paired to
// another event, say). Check-ins and the outbox are kept.
func (db *DB) ResetGallery(ctx context.Context) error {
	err := db.update(ctx, "reset gallery", func(tx *sql.Tx) error {
		return resetGallery(ctx, tx)
	})
	if err != nil {
		return err
	}
	return db.scrub(ctx, "reset gallery")
}

func resetGallery(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM templates`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM attendees`); err != nil {
		return err
	}
	return setCursor(ctx, tx, 0)
}

func fold(s string) string { return strings.ToLower(s) }
